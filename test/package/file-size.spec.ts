/**
 * One file, one role: no TypeScript file under lib/ is longer than MAX_LINES lines (counted as
 * `wc -l` counts them), so a file that grows past one role has to be split before it lands. The
 * OData filter grammar (lib/emulator/rest/odata-filter.ts) is the one named exception: it is one
 * grammar, read top to bottom, and splitting it would scatter its productions. The checker is
 * also shown failing on a planted long file, so a limit that let everything through would not pass.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { LIB, libSources } from './lib-files.js';

/** The longest a file of lib/ may be. */
const MAX_LINES = 500;

/** Files of lib/ allowed to be longer, each with its reason. */
const EXCEPTIONS: Readonly<Record<string, string>> = {
  'emulator/rest/odata-filter.ts': 'one grammar, kept whole',
};

interface Source {
  /** Path under lib/. */
  readonly path: string;
  readonly text: string;
}

/** Lines as `wc -l` counts them: the number of line breaks. */
function lineCount(text: string): number {
  return text.split('\n').length - 1;
}

/** Every file over the limit, one line each (empty when every file fits). */
function tooLong(files: readonly Source[]): string[] {
  return files
    .filter(({ path }) => !Object.hasOwn(EXCEPTIONS, path))
    .map(({ path, text }) => ({ path, lines: lineCount(text) }))
    .filter(({ lines }) => lines > MAX_LINES)
    .map(({ path, lines }) => `lib/${path} has ${lines} lines (at most ${MAX_LINES})`);
}

describe('the size of the files of lib/', () => {
  const files: Source[] = libSources().map(file => ({
    path: relative(LIB, file),
    text: readFileSync(file, 'utf8'),
  }));

  it('reads every TypeScript file of lib/, the exception among them', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files.map(({ path }) => path)).toEqual(expect.arrayContaining(Object.keys(EXCEPTIONS)));
  });

  it(`has no file over ${MAX_LINES} lines but the named exception`, () => {
    expect(tooLong(files)).toEqual([]);
  });

  it('fails on a planted long file, counts as wc -l does, and spares only the exception', () => {
    const long = 'const a = 1;\n'.repeat(MAX_LINES + 1);
    expect(tooLong([{ path: 'emulator/mqtt/planted.ts', text: long }])).toEqual([
      `lib/emulator/mqtt/planted.ts has ${MAX_LINES + 1} lines (at most ${MAX_LINES})`,
    ]);
    expect(tooLong([{ path: 'emulator/mqtt/planted.ts', text: long.slice(13) }])).toEqual([]);
    expect(tooLong([{ path: 'emulator/rest/odata-filter.ts', text: long }])).toEqual([]);
    expect(tooLong([{ path: 'emulator/rest/odata-filter.ts.bak.ts', text: long }])).toHaveLength(1);
  });
});
