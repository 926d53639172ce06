// The build of an earlier commit, measured beside the current one in the same run: its lib/ and
// build settings taken from git, compiled (ESM only) into bench/.baseline/<commit>/ once, with
// this checkout's node_modules.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The commit before issue 17's move (the issue's "old build"). */
export const BASELINE_COMMIT = '03f95e0';

/** The gateway as `npm run bench:gateway` first measured it below its floor (0.74×, 0.82×). */
export const GATEWAY_BASELINE_COMMIT = 'ed2eba6';

/** The baseline's ESM build folder as a file URL, built first when it is missing. */
export function baselineDist(root, commit = BASELINE_COMMIT, log = console.error) {
  const dir = join(root, 'bench', '.baseline', commit);
  const dist = join(dir, 'dist', 'esm');
  if (!existsSync(join(dist, 'index.js'))) {
    log(`Building the baseline ${commit} into ${dir} ...`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const files = [
      'lib',
      'tsconfig.json',
      'tsconfig.build.json',
      'tsconfig.build.esm.json',
      'package.json',
    ];
    execFileSync('bash', ['-c', `git archive ${commit} ${files.join(' ')} | tar -x -C "${dir}"`], {
      cwd: root,
      stdio: 'inherit',
    });
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    execFileSync(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.esm.json'],
      {
        cwd: dir,
        stdio: 'inherit',
      },
    );
  }
  return `${pathToFileURL(dist).href}/`;
}
