// Which library source a run measured.
import { execFileSync } from 'node:child_process';

/** The commit dist/ was built from, and whether lib/ differed from it (as markdown). */
export function libraryState(root) {
  try {
    const git = (...args) =>
      execFileSync('git', args, {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'lib') !== '';
    return `dist/ built from commit ${commit}${dirty ? ' **plus uncommitted changes in lib/**' : ' (lib/ unchanged)'}`;
  } catch {
    return 'dist/ (git state unknown)';
  }
}
