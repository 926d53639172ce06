// Module hooks that let Node run the TypeScript sources as they are (for specs that start a real
// process, e.g. the sample's entry): `nestjs-web-pubsub` and its subpaths map to lib/, relative
// `.js` imports from a `.ts` file to the `.ts` file, and `.ts` files are transpiled with the
// project's decorator settings (as ts-jest does, file by file).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = new URL('../../', import.meta.url);
const ALIASES = {
  'nestjs-web-pubsub': 'lib/index.ts',
  'nestjs-web-pubsub/emulator': 'lib/emulator/index.ts',
  'nestjs-web-pubsub/testing': 'lib/testing/index.ts',
  'nestjs-web-pubsub/socket.io': 'lib/socket-io/index.ts',
};

export async function resolve(specifier, context, next) {
  const alias = ALIASES[specifier];
  if (alias) return { url: new URL(alias, root).href, shortCircuit: true };
  if (
    specifier.startsWith('.') &&
    specifier.endsWith('.js') &&
    context.parentURL?.endsWith('.ts')
  ) {
    const candidate = new URL(`${specifier.slice(0, -3)}.ts`, context.parentURL);
    if (existsSync(fileURLToPath(candidate))) return { url: candidate.href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  const fileName = fileURLToPath(url);
  const { outputText } = ts.transpileModule(await readFile(fileName, 'utf8'), {
    fileName,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      useDefineForClassFields: false,
      inlineSourceMap: true,
    },
  });
  return { format: 'module', source: outputText, shortCircuit: true };
}
