/** The TypeScript files of lib/, for the specs that check the shape of the house. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const LIB = join(import.meta.dirname ?? process.cwd(), '..', '..', 'lib');

/** Every `.ts` file under `dir` (lib/ by default), as absolute paths. */
export function libSources(dir: string = LIB): string[] {
  return readdirSync(dir).flatMap(name => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? libSources(path) : path.endsWith('.ts') ? [path] : [];
  });
}
