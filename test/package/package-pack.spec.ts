/**
 * Packs the package as `npm publish` would (the `prepack` script builds it; in `npm test`, about 60
 * s) and checks the file list: exactly `dist/esm/**` and `dist/cjs/**` (`.js`, `.d.ts`, the two
 * `package.json` type markers), `package.json`, README, LICENSE, CHANGELOG, and every one of the
 * entry points' 4 targets (ESM/CJS × code/types); nothing from `lib/`, `test/`, `bench/`,
 * `sample/`, `scripts/`; no source maps, and the emulator command once (the ES module build, with
 * its shebang). Then it unpacks the tarball into a scratch project inside this repository (so its
 * dependencies resolve from our node_modules) and checks that its types resolve under every
 * `module` / `moduleResolution` a consumer may use: `commonjs` (node10), `node16` (ESM package),
 * `nodenext` (CommonJS and ESM packages) and `esnext`/`bundler`, the `require` consumers reading
 * `dist/cjs/*.d.ts` and the `import` ones `dist/esm/*.d.ts` only, an unknown option still a type
 * error; and that both builds load with `require` and `import`. `node16` in a CommonJS package
 * cannot use Nest 12 (ESM-only) at all; it is checked against Nest 11 in `npm run test:consumers`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname ?? process.cwd(), '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const scratch = join(root, '.tmp', `pack-${process.pid}`);

/** Entry points whose sources are in this tree (`./testing`, `./emulator` arrive with their code). */
const entries = Object.entries(manifest.exports as Record<string, unknown>).filter(
  ([subpath]) =>
    subpath !== './package.json' &&
    existsSync(join(root, 'lib', subpath === '.' ? '' : subpath.slice(2), 'index.ts')),
);

function targets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Object.values(value as Record<string, unknown>).flatMap(targets);
}

interface PackResult {
  filename: string;
  files: { path: string }[];
}

let packed: PackResult;
let files: string[];

beforeAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', scratch], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  packed = (JSON.parse(out) as PackResult[])[0];
  files = packed.files.map(file => file.path);
}, 120_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the packed package', () => {
  it('contains both builds of every entry point, their types, README, LICENSE and CHANGELOG', () => {
    expect(entries.map(([subpath]) => subpath)).toContain('.');
    for (const [subpath, conditions] of entries) {
      const paths = targets(conditions).map(target => target.replace(/^\.\//, ''));
      expect(paths.filter(path => path.startsWith('dist/esm/')).length).toBe(2);
      expect(paths.filter(path => path.startsWith('dist/cjs/')).length).toBe(2);
      for (const path of paths)
        expect({ subpath, path, packed: files.includes(path) }).toEqual({
          subpath,
          path,
          packed: true,
        });
    }
    for (const path of [
      'package.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'dist/esm/package.json',
      'dist/cjs/package.json',
      manifest.main.replace(/^\.\//, ''),
      manifest.types.replace(/^\.\//, ''),
    ])
      expect(files).toContain(path);
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(
      /^MIT License\n\nCopyright \(c\) \d{4} nestjs-web-pubsub contributors\n/,
    );
  });

  it('marks each build folder with its module system', () => {
    expect(JSON.parse(readFileSync(join(root, 'dist/esm/package.json'), 'utf8'))).toEqual({
      type: 'module',
    });
    expect(JSON.parse(readFileSync(join(root, 'dist/cjs/package.json'), 'utf8'))).toEqual({
      type: 'commonjs',
    });
    expect(readFileSync(join(root, 'dist/cjs/index.js'), 'utf8')).toMatch(/require\(/);
    expect(readFileSync(join(root, 'dist/esm/index.js'), 'utf8')).not.toMatch(/require\(/);
  });

  it('ships the emulator command when its source is in the tree', () => {
    const bin = manifest.bin['nestjs-web-pubsub-emulator'].replace(/^\.\//, '');
    expect(bin).toBe('dist/esm/bin/emulator.js');
    if (existsSync(join(root, 'lib/bin/emulator.ts'))) {
      expect(files).toContain(bin);
      expect(readFileSync(join(root, bin), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
    } else {
      expect(files.filter(path => path.includes('/bin/'))).toEqual([]);
    }
  });

  it('ships nothing but the build and the documents', () => {
    const unexpected = files.filter(
      path =>
        !/^dist\/(esm|cjs)\/.+\.(js|d\.ts)$/.test(path) &&
        !/^dist\/(esm|cjs)\/package\.json$/.test(path) &&
        !['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(path),
    );
    expect(unexpected).toEqual([]);
    expect(files.filter(path => /^(test|bench|sample|lib|scripts)\//.test(path))).toEqual([]);
    expect(files.filter(path => /\.spec\.|\.tgz$/.test(path))).toEqual([]);
  });

  it('ships no source maps, and the command once (the ES module build)', () => {
    // The JavaScript is tsc's output of the same code, comments kept: maps with embedded sources
    // doubled the package for a typed view of it.
    expect(files.filter(path => path.endsWith('.map'))).toEqual([]);
    const scripts = files.filter(path => path.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(10);
    for (const path of scripts) {
      const mapped = readFileSync(join(root, path), 'utf8').includes('sourceMappingURL');
      expect({ path, mapped }).toEqual({ path, mapped: false });
    }
    expect(readFileSync(join(root, 'dist/cjs/protocol/signature.js'), 'utf8')).toMatch(/\/\*\*\n/);
    // package.json "bin" names the ES module build's command; no CommonJS copy of it.
    expect(files.filter(path => path.startsWith('dist/cjs/bin/'))).toEqual([]);
  });
});

describe('the unpacked tarball in a consumer project', () => {
  const project = join(scratch, 'consumer');

  beforeAll(() => {
    const target = join(project, 'node_modules', manifest.name);
    mkdirSync(project, { recursive: true });
    // A package of its own, so that the name resolves to the tarball, not to this repository.
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true }),
    );
    mkdirSync(target, { recursive: true });
    execFileSync('tar', [
      'xzf',
      join(scratch, packed.filename),
      '-C',
      target,
      '--strip-components=1',
    ]);
  });

  const source = `import { WebPubSubModule, OnUserEvent, type WebPubSubModuleOptions } from 'nestjs-web-pubsub';
const options: WebPubSubModuleOptions = { hub: 'chat' };
export const dynamicModule = WebPubSubModule.forRoot(options);
export const decorator: MethodDecorator = OnUserEvent('message');
// @ts-expect-error the types are real: an unknown option is refused
WebPubSubModule.forRoot({ hubb: 'chat' });
`;

  // A CommonJS project under `node16` cannot use Nest 12 at all (ESM-only, TS1479 on its own
  // imports of @nestjs/*): that case runs against Nest 11 in `npm run test:consumers`.
  it.each([
    ['commonjs', 'node10', 'commonjs'],
    ['node16', 'node16', 'module'],
    ['nodenext', 'nodenext', 'commonjs'],
    ['nodenext', 'nodenext', 'module'],
    ['esnext', 'bundler', 'module'],
  ])(
    'type-checks with module %s, moduleResolution %s in a "%s" package',
    (module, resolution, type) => {
      const dir = join(project, `${module}-${resolution}-${type}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type }));
      writeFileSync(join(dir, 'consumer.ts'), source);
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module,
            moduleResolution: resolution,
            target: 'ES2022',
            strict: true,
            noEmit: true,
            experimentalDecorators: true,
            skipLibCheck: true,
            types: ['node'],
            typeRoots: [join(root, 'node_modules/@types')],
            ignoreDeprecations: '5.0',
          },
          files: ['consumer.ts'],
        }),
      );
      const tsc = join(root, 'node_modules/typescript/bin/tsc');
      let output = '';
      try {
        output = execFileSync(process.execPath, [tsc, '-p', dir, '--listFiles'], {
          encoding: 'utf8',
          cwd: dir,
        });
      } catch (error) {
        output = String((error as { stdout?: string }).stdout);
      }
      expect(output.split('\n').filter(line => /error TS/.test(line))).toEqual([]);
      // `require` consumers get the CommonJS declarations, `import` consumers the ESM ones.
      const build = type === 'commonjs' && module !== 'esnext' ? 'cjs' : 'esm';
      const other = build === 'cjs' ? 'esm' : 'cjs';
      expect(output).toContain(`node_modules/nestjs-web-pubsub/dist/${build}/index.d.ts`);
      expect(output).not.toContain(`node_modules/nestjs-web-pubsub/dist/${other}/`);
    },
  );

  it('loads the CommonJS build with require and the ESM build with import', () => {
    const script = `
      const cjs = require('nestjs-web-pubsub');
      const resolved = require.resolve('nestjs-web-pubsub');
      import('nestjs-web-pubsub').then(esm => {
        console.log(JSON.stringify({
          resolved,
          cjs: typeof cjs.WebPubSubModule.forRoot,
          esm: typeof esm.WebPubSubModule.forRoot,
          distinct: esm.WebPubSubModule !== cjs.WebPubSubModule,
          token: esm.WEB_PUBSUB_MODULE_OPTIONS === cjs.WEB_PUBSUB_MODULE_OPTIONS,
        }));
      });`;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: project, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({
      resolved: join(project, 'node_modules/nestjs-web-pubsub/dist/cjs/index.js'),
      cjs: 'function',
      esm: 'function',
      distinct: true,
      token: true,
    });
  });
});
