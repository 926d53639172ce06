import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository's root. */
export const ROOT = join(import.meta.dirname ?? process.cwd(), '..', '..');

/** README.md, then every `docs/*.md`: a new guide is checked as soon as it exists. */
export function documentationFiles(): string[] {
  const guides = readdirSync(join(ROOT, 'docs'))
    .filter(name => name.endsWith('.md'))
    .sort()
    .map(name => `docs/${name}`);
  return ['README.md', ...guides];
}

export function readDocument(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

/**
 * The documents whose app files grow one app, in the order of its steps: the Quick start is
 * step 1, and each later step is a heading `Step N: ...` in one of these guides.
 */
export const GUIDE_PATH = [
  'README.md',
  'docs/emulator.md',
  'docs/service-client.md',
  'docs/testing.md',
];

/** A block that is a file of the guide's app: its first line names it, `// src/app.module.ts`. */
const APP_FILE = /^\/\/ ((?:src|test|scripts)\/[\w./-]+\.ts)\n/;

export interface TsBlock {
  /** The document, relative to the root. */
  readonly document: string;
  /** Line of the opening fence. */
  readonly line: number;
  /** The block as shown. */
  readonly body: string;
  /** What is compiled: the block with its hidden set-up (see readme-examples.spec.ts). */
  readonly code: string;
  /** `// name.ts` on the first line: the file's name. */
  readonly name?: string;
  /** For a file of the guide's app: its path in the app and the step that shows it. */
  readonly appFile?: string;
  readonly step?: number;
}

/**
 * The ```ts blocks of a document. Set-up the reader does not need goes in an HTML comment right
 * before the block (`<!-- ts ... -->`, invisible on GitHub and npm); `$BLOCK` marks where the
 * block goes in it (default: after it), and the block's leading imports then move above it.
 */
export function tsBlocks(document: string, markdown = readDocument(document)): TsBlock[] {
  const blocks: TsBlock[] = [];
  const pattern = /(?:<!--\s*ts\n([\s\S]*?)-->\s*\n)?```ts\n([\s\S]*?)```/g;
  for (const match of markdown.matchAll(pattern)) {
    const [, preamble, body] = match;
    const before = markdown.slice(0, match.index + match[0].indexOf('```ts'));
    const line = before.split('\n').length;
    let code = body;
    if (preamble && preamble.includes('$BLOCK')) {
      const imports = /^(?:\s*import\s[\s\S]*?from\s+'[^']+';[^\n]*\n)*/.exec(body)![0];
      code = `${imports}${preamble.replace('$BLOCK', () => body.slice(imports.length))}`;
    } else if (preamble) {
      code = `${preamble}\n${body}`;
    }
    if (!/^\s*(import|export)\s/m.test(code)) code += '\nexport {};\n';
    const appFile = APP_FILE.exec(body)?.[1];
    const name = /^\/\/ ([\w.-]+\.ts)\n/.exec(body)?.[1];
    const steps = [...before.matchAll(/^#{1,6} Step (\d+)\b/gm)];
    const step = appFile === undefined ? undefined : Number(steps.at(-1)?.[1] ?? 1);
    blocks.push({ document, line, body, code, name, appFile, step });
  }
  return blocks;
}

/**
 * The guide's app after each step: step → (path → file), each file as the latest step up to
 * that one shows it. Only the documents of {@link GUIDE_PATH} may show app files.
 */
export function guideAppSteps(): Map<number, Map<string, TsBlock>> {
  const shown = GUIDE_PATH.flatMap(document => tsBlocks(document)).filter(
    block => block.appFile !== undefined,
  );
  const steps = [...new Set(shown.map(block => block.step!))].sort((a, b) => a - b);
  const result = new Map<number, Map<string, TsBlock>>();
  for (const step of steps) {
    const files = new Map<string, TsBlock>();
    for (const block of shown) if (block.step! <= step) files.set(block.appFile!, block);
    result.set(step, files);
  }
  return result;
}
