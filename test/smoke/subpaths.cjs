// The package's entry points, read from package.json `exports`: every subpath must have its source
// (lib/<subpath>/index.ts, or lib/index.ts for ".") and is loaded by import.mjs and require.cjs;
// subpaths-import.mjs and subpaths-require.cjs then exercise each subpath's job.
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function subpaths() {
  return Object.keys(manifest.exports)
    .filter(subpath => subpath !== './package.json')
    .map(subpath => {
      const name = subpath === '.' ? '' : subpath.slice(2);
      // `./socket.io` lives in lib/socket-io/ (a folder name without a dot).
      const source = join(root, 'lib', name.replace(/\./g, '-'), 'index.ts');
      return {
        subpath,
        specifier: name ? `${manifest.name}/${name}` : manifest.name,
        source: source.slice(root.length + 1),
        present: existsSync(source),
      };
    });
}

/** The names the main entry must export (the public API the README documents). */
const MAIN_EXPORTS = [
  'WebPubSubModule',
  'WebPubSubConfigService',
  'OnConnect',
  'OnConnected',
  'OnUserEvent',
  'OnDisconnected',
  'InjectWebPubSubOptions',
  'userEventResponse',
  'WebPubSubOptionsError',
  'DuplicateWebPubSubHandlerError',
  'WEB_PUBSUB_MODULE_OPTIONS',
];

module.exports = { root, manifest, subpaths, MAIN_EXPORTS };
