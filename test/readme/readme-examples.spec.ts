import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every ```ts block of README.md compiles against the sources (`nestjs-web-pubsub` mapped to
 * lib/index.ts), type-checked like a Nest app's code (strict, unused imports and locals refused).
 *
 * Conventions for README authors:
 * - A block whose first line is `// name.ts` is the file `name.ts`; such files share one folder,
 *   so the Quick start's files import each other (`./chat.handlers`). Other blocks are files of
 *   their own.
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
const root = join(import.meta.dirname ?? process.cwd(), '..', '..');
const dir = join(root, '.tmp', `readme-${process.pid}`);

export interface ReadmeBlock {
  line: number;
  file: string;
  code: string;
}

export function readmeTsBlocks(markdown: string): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = [];
  const pattern = /(?:<!--\s*ts\n([\s\S]*?)-->\s*\n)?```ts\n([\s\S]*?)```/g;
  for (const match of markdown.matchAll(pattern)) {
    const [, preamble, body] = match;
    const line = markdown.slice(0, match.index + match[0].indexOf('```ts')).split('\n').length;
    const named = /^\/\/ ([\w.-]+\.ts)\n/.exec(body);
    const file = named ? named[1] : `readme-line-${line}.ts`;
    let code = body;
    if (preamble && preamble.includes('$BLOCK')) {
      // The block's own imports go first, so a preamble may wrap the rest in a class.
      const imports = /^(?:\s*import\s[\s\S]*?from\s+'[^']+';[^\n]*\n)*/.exec(body)![0];
      code = `${imports}${preamble.replace('$BLOCK', () => body.slice(imports.length))}`;
    } else if (preamble) {
      code = `${preamble}\n${body}`;
    }
    if (!/^\s*(import|export)\s/m.test(code)) code += '\nexport {};\n';
    blocks.push({ line, file, code });
  }
  return blocks;
}

describe('README.md TypeScript examples', () => {
  const blocks = readmeTsBlocks(readFileSync(join(root, 'README.md'), 'utf8'));

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the examples, the Quick start with its main.ts among them', () => {
    expect(blocks.length).toBeGreaterThan(10);
    expect(blocks.map(block => block.file)).toEqual(
      expect.arrayContaining(['main.ts', 'app.module.ts', 'chat.handlers.ts']),
    );
    expect(new Set(blocks.map(block => block.file)).size).toBe(blocks.length);
  });

  it('compiles every block', () => {
    mkdirSync(dir, { recursive: true });
    for (const block of blocks) writeFileSync(join(dir, block.file), block.code);
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
          typeRoots: [join(root, 'node_modules/@types')],
          paths: {
            'nestjs-web-pubsub': [join(root, 'lib/index.ts')],
            'nestjs-web-pubsub/testing': [join(root, 'lib/testing/index.ts')],
            'nestjs-web-pubsub/emulator': [join(root, 'lib/emulator/index.ts')],
          },
        },
        include: ['*.ts'],
      }),
    );
    let output = '';
    try {
      execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], {
        encoding: 'utf8',
      });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout);
    }
    // Each error names the README line of its block, to find it quickly.
    const errors = output
      .split('\n')
      .filter(line => line.includes('error TS'))
      .map(line => {
        const block = blocks.find(candidate => line.includes(`/${candidate.file}(`));
        return block ? `README.md block at line ${block.line}: ${line}` : line;
      });
    expect(errors).toEqual([]);
  }, 120_000);
});
