/**
 * The manifest: every package `lib/` imports is a dependency or peer dependency; no HTTP platform
 * package is imported at run time; the socket.io peers are optional and imported by
 * `lib/socket-io/` only; ESM sources, and both builds of every entry point exported (`import`,
 * `require`, `types`; `main`/`types`/`typesVersions`, `bin`, `prepack`); no dependency CommonJS
 * cannot require (jose 5 ships both builds; 6 is ESM-only).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import ts from 'typescript';
import { join, sep } from 'node:path';

const root = join(import.meta.dirname ?? process.cwd(), '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

describe('package manifest', () => {
  it('declares every package lib/ imports as a dependency or peer dependency', () => {
    const declared = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ]);
    const undeclared = new Set<string>();
    for (const file of sources(join(root, 'lib'))) {
      const text = readFileSync(file, 'utf8');
      // TypeScript's own scanner: import text inside strings (an embedded .proto) is not an import.
      for (const { fileName: specifier } of ts.preProcessFile(text, true, true).importedFiles) {
        if (
          specifier.startsWith('.') ||
          specifier.startsWith('node:') ||
          builtinModules.includes(specifier)
        )
          continue;
        const name = packageName(specifier);
        if (!declared.has(name)) undeclared.add(`${name} (${file.slice(root.length + 1)})`);
      }
    }
    expect([...undeclared]).toEqual([]);
  });

  it('never imports an HTTP platform package at runtime', () => {
    for (const file of sources(join(root, 'lib'))) {
      const text = readFileSync(file, 'utf8');
      expect(text).not.toMatch(
        /from\s+['"](@nestjs\/platform-(?!socket\.io['"])|express['"]|fastify['"])/,
      );
    }
  });

  it('keeps the socket.io peers to nestjs-web-pubsub/socket.io: optional, imported by lib/socket-io/ only', () => {
    const peers = ['@nestjs/platform-socket.io', 'socket.io', '@azure/web-pubsub-socket.io'];
    for (const name of peers) {
      expect({ name, optional: manifest.peerDependenciesMeta[name]?.optional }).toEqual({
        name,
        optional: true,
      });
    }
    for (const file of sources(join(root, 'lib'))) {
      if (file.includes(`${sep}lib${sep}socket-io${sep}`)) continue;
      const text = readFileSync(file, 'utf8');
      for (const name of peers) {
        expect({ file, imports: text.includes(`from '${name}'`) }).toEqual({
          file,
          imports: false,
        });
      }
    }
  });

  it('has ESM sources and exports both builds of every entry point (import, require, types)', () => {
    expect(manifest.type).toBe('module');
    const both = (entry: string) => ({
      import: { types: `./dist/esm/${entry}.d.ts`, default: `./dist/esm/${entry}.js` },
      require: { types: `./dist/cjs/${entry}.d.ts`, default: `./dist/cjs/${entry}.js` },
    });
    expect(manifest.exports).toEqual({
      '.': both('index'),
      './testing': both('testing/index'),
      './emulator': both('emulator/index'),
      './socket.io': both('socket-io/index'),
      './package.json': './package.json',
    });
    // `module: commonjs` (node10 resolution) reads main/types and typesVersions, not exports.
    expect(manifest.main).toBe('./dist/cjs/index.js');
    expect(manifest.types).toBe('./dist/cjs/index.d.ts');
    expect(manifest.typesVersions).toEqual({
      '*': {
        testing: ['./dist/cjs/testing/index.d.ts'],
        emulator: ['./dist/cjs/emulator/index.d.ts'],
        'socket.io': ['./dist/cjs/socket-io/index.d.ts'],
      },
    });
    expect(manifest.bin).toEqual({ 'nestjs-web-pubsub-emulator': './dist/esm/bin/emulator.js' });
    expect(manifest.scripts.prepack).toBe('npm run build');
    expect(manifest.peerDependencies['@nestjs/common']).toBe('^11.0.0 || ^12.0.0');
    expect(manifest.peerDependencies['@nestjs/core']).toBe('^11.0.0 || ^12.0.0');
    expect(manifest.engines.node).toBe('>=20.19.0');
  });

  it('depends on nothing that CommonJS cannot require (jose 5 ships both builds; 6 is ESM-only)', () => {
    expect(manifest.dependencies.jose).toMatch(/^\^5\./);
    const require = createRequire(join(root, 'package.json'));
    for (const name of Object.keys(manifest.dependencies)) {
      // Some packages' `exports` hide package.json: read it from the folder `require` finds.
      const dependency = JSON.parse(
        readFileSync(join(packageFolder(require.resolve(name), name), 'package.json'), 'utf8'),
      ) as { type?: string; main?: string; exports?: unknown };
      const requirable =
        dependency.type !== 'module' ||
        JSON.stringify(dependency.exports ?? {}).includes('"require"');
      expect({ name, requirable }).toEqual({ name, requirable: true });
    }
  });
});

/** The `node_modules/<name>` folder that holds `resolved`, the entry file `require` found. */
function packageFolder(resolved: string, name: string): string {
  const marker = `${sep}node_modules${sep}${name.split('/').join(sep)}${sep}`;
  const at = resolved.lastIndexOf(marker);
  if (at < 0) throw new Error(`${name} resolved outside node_modules: ${resolved}`);
  return resolved.slice(0, at + marker.length);
}
