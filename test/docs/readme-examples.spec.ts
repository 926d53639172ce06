/**
 * Every ```ts block of README.md and of every docs/*.md compiles against the sources
 * (`nestjs-web-pubsub` mapped to lib/index.ts), type-checked like a Nest app's code (strict,
 * unused imports and locals refused). A new guide under docs/ is checked without being listed.
 *
 * Conventions for authors:
 * - A block whose first line is `// src/<file>.ts`, `// test/<file>.ts` or `// scripts/<file>.ts`
 *   is a file of the app that grows through the guides (README's Quick start is step 1, a
 *   heading `Step N: ...` starts each later step, in the documents of `GUIDE_PATH`). The app is
 *   compiled as it stands after every step, each file as the latest step shows it.
 * - Another block whose first line is `// name.ts` is the file `name.ts` of its document's folder
 *   (files of one document may import each other). Other blocks are files of their own.
 * - Context the reader does not need (imports, a class around method snippets, an `app`) goes in
 *   an HTML comment right before the block, invisible on GitHub and npm:
 *       <!-- ts
 *       import { Injectable } from '@nestjs/common';
 *       @Injectable() class Example {
 *       $BLOCK
 *       }
 *       -->
 *   `$BLOCK` marks where the block goes (default: after the preamble); the block's leading
 *   `import` declarations are then moved above the preamble, so it may wrap the rest in a class.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  documentationFiles,
  GUIDE_PATH,
  guideAppSteps,
  ROOT,
  tsBlocks,
  type TsBlock,
} from '../utils/markdown.js';

const dir = join(ROOT, '.tmp', `docs-examples-${process.pid}`);

/** Where each compiled file comes from, to name it in errors. */
interface Placed {
  path: string;
  block: TsBlock;
}

function placeBlocks(): Placed[] {
  const placed: Placed[] = [];
  for (const document of documentationFiles()) {
    const folder = document.replace(/\.md$/, '').replaceAll('/', '-');
    for (const block of tsBlocks(document)) {
      if (block.appFile !== undefined) continue;
      placed.push({ path: `${folder}/${block.name ?? `line-${block.line}.ts`}`, block });
    }
  }
  for (const [step, files] of guideAppSteps()) {
    for (const [path, block] of files) placed.push({ path: `app-step-${step}/${path}`, block });
  }
  return placed;
}

describe('TypeScript examples of README.md and docs/*.md', () => {
  const placed = placeBlocks();

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the examples of every document, the Quick start among them', () => {
    const documents = documentationFiles();
    expect(documents).toEqual(expect.arrayContaining(GUIDE_PATH));
    expect(placed.length).toBeGreaterThan(30);
    const quickStart = tsBlocks('README.md').filter(block => block.appFile !== undefined);
    expect(quickStart.map(block => [block.appFile, block.step])).toEqual([
      ['src/main.ts', 1],
      ['src/app.module.ts', 1],
      ['src/chat.handlers.ts', 1],
    ]);
    expect(new Set(placed.map(item => item.path)).size).toBe(placed.length);
  });

  it('shows app files only along the guide path, in the order of the steps', () => {
    const outside = documentationFiles()
      .filter(document => !GUIDE_PATH.includes(document))
      .flatMap(document => tsBlocks(document))
      .filter(block => block.appFile !== undefined)
      .map(block => `${block.document}:${block.line}`);
    expect(outside).toEqual([]);
    const steps = GUIDE_PATH.flatMap(document => tsBlocks(document))
      .filter(block => block.appFile !== undefined)
      .map(block => block.step!);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect([...guideAppSteps().keys()]).toEqual([1, 2, 3, 4, 5]);
  });

  it('compiles every block, and the app after every step', () => {
    mkdirSync(dir, { recursive: true });
    for (const { path, block } of placed) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), block.code);
    }
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'preserve',
          moduleResolution: 'bundler',
          strict: true,
          noUnusedLocals: true,
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          useDefineForClassFields: false,
          skipLibCheck: true,
          noEmit: true,
          types: ['node', 'jest'],
          typeRoots: [join(ROOT, 'node_modules/@types')],
          paths: {
            'nestjs-web-pubsub': [join(ROOT, 'lib/index.ts')],
            'nestjs-web-pubsub/testing': [join(ROOT, 'lib/testing/index.ts')],
            'nestjs-web-pubsub/emulator': [join(ROOT, 'lib/emulator/index.ts')],
            'nestjs-web-pubsub/socket.io': [join(ROOT, 'lib/socket-io/index.ts')],
          },
        },
        include: ['**/*.ts'],
      }),
    );
    let output = '';
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], {
        encoding: 'utf8',
      });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout);
    }
    // Each error names the document and line of its block, to find it quickly. Errors inside
    // lib/ itself (seen through `paths` with these stricter settings) are for tsc and the linter.
    const errors = output
      .split('\n')
      .filter(line => line.includes('error TS') && !/^(\.\.\/)*lib\//.test(line))
      .map(line => {
        const item = placed.find(candidate => line.includes(`${basename(dir)}/${candidate.path}(`));
        return item ? `${item.block.document} block at line ${item.block.line}: ${line}` : line;
      });
    expect(errors).toEqual([]);
  }, 180_000);
});
