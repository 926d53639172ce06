// The package's entry points, read from package.json `exports`: every subpath whose source folder
// is in this tree (lib/<subpath>/index.ts, or lib/index.ts for ".") is smoke-tested; a new subpath
// needs no change here.
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function subpaths() {
  return Object.keys(manifest.exports)
    .filter(subpath => subpath !== './package.json')
    .map(subpath => {
      const name = subpath === '.' ? '' : subpath.slice(2);
      const source = join(root, 'lib', name, 'index.ts');
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
