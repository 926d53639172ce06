// After the two tsc runs: mark dist/esm as ES modules and dist/cjs as CommonJS, so Node and
// TypeScript (node16/nodenext) read each folder's .js and .d.ts files in the right module system.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dist = join(import.meta.dirname, '..', 'dist');
writeFileSync(join(dist, 'esm', 'package.json'), JSON.stringify({ type: 'module' }) + '\n');
writeFileSync(join(dist, 'cjs', 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');
