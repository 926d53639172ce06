// Builds the chat page into dist-sample/public (or the folder given as the first argument):
// index.html and chat.css as they are, and chat.js bundled with @azure/web-pubsub-client for
// browsers by esbuild. Nothing from the environment goes into the bundle.
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

/** Writes index.html, chat.css and chat.js (+ source map) into `outdir`. */
export async function buildClient(outdir = join(here, '..', 'dist-sample', 'public')) {
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: [join(here, 'client', 'chat.ts')],
    outfile: join(outdir, 'chat.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2020',
    minify: true,
    sourcemap: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'chat.css']) {
    await copyFile(join(here, 'public', file), join(outdir, file));
  }
  return outdir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = await buildClient(process.argv[2] && resolve(process.argv[2]));
  console.log(`chat page built into ${outdir}`);
}
