/**
 * Every relative link of README.md, docs/*.md (a new guide included without being listed),
 * CHANGELOG.md and SECURITY.md reaches a file or folder of the repository, and every `#anchor`
 * (in the same document or another) names a heading there, as GitHub spells heading anchors.
 * Links inside code blocks and inline code are not links. README stays a map: at most 350 lines,
 * and it links every guide. Seen failing with a renamed heading and with a link to a missing guide.
 */
import { existsSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { documentationFiles, readDocument, ROOT } from '../utils/markdown.js';

const DOCUMENTS = [...documentationFiles(), 'CHANGELOG.md', 'SECURITY.md'];

/** The markdown without fenced blocks and inline code, whose brackets are not links. */
function prose(markdown: string): string {
  return markdown
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, block => block.replace(/[^\n]/g, ' '))
    .replace(/`[^`\n]*`/g, code => ' '.repeat(code.length));
}

/** GitHub's heading anchors: text without markup, lower case, punctuation dropped, spaces as `-`. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const text = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, '');
  for (const [, heading] of text.matchAll(/^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$/gm)) {
    const slug = heading
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/[`*]/g, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

interface Link {
  document: string;
  line: number;
  target: string;
}

function relativeLinks(document: string): Link[] {
  const text = prose(readDocument(document));
  const links: Link[] = [];
  for (const match of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = match[1];
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    links.push({ document, line: text.slice(0, match.index).split('\n').length, target });
  }
  return links;
}

/** What is wrong with `link`, or undefined. */
function problem(link: Link): string | undefined {
  const [path, anchor] = link.target.split('#', 2) as [string, string | undefined];
  const file = path === '' ? link.document : normalize(join(dirname(link.document), path));
  if (file.startsWith('..')) return `${file} is outside the repository`;
  if (!existsSync(join(ROOT, file))) return `${file} does not exist`;
  if (anchor === undefined) return undefined;
  if (!file.endsWith('.md')) return `#${anchor} points into ${file}, which has no headings`;
  if (!headingAnchors(readDocument(file)).has(decodeURIComponent(anchor))) {
    return `${file} has no heading #${anchor}`;
  }
  return undefined;
}

describe('links of the documentation', () => {
  it('finds the guides and their links', () => {
    expect(DOCUMENTS).toContain('docs/emulator.md');
    expect(DOCUMENTS.flatMap(relativeLinks).length).toBeGreaterThan(30);
  });

  it.each(DOCUMENTS)('every relative link and anchor of %s resolves', document => {
    const broken = relativeLinks(document)
      .map(link => ({ link, problem: problem(link) }))
      .filter(item => item.problem !== undefined)
      .map(({ link, problem }) => `${link.document}:${link.line} (${link.target}): ${problem}`);
    expect(broken).toEqual([]);
  });

  it('README stays a map: at most 350 lines, linking every guide under docs/', () => {
    const readme = readDocument('README.md');
    expect(readme.split('\n').length).toBeLessThanOrEqual(350);
    const linked = new Set(relativeLinks('README.md').map(link => link.target.split('#')[0]));
    const unlisted = documentationFiles().filter(
      document => document !== 'README.md' && !linked.has(document),
    );
    expect(unlisted).toEqual([]);
  });

  it('computes anchors as GitHub does', () => {
    const anchors = headingAnchors(
      '# A `forRoot()` and `forRootAsync()`\n## Step 4: hand out client URLs (negotiate)\n## Logging\n## Logging\n```\n# not a heading\n```\n',
    );
    expect([...anchors]).toEqual([
      'a-forroot-and-forrootasync',
      'step-4-hand-out-client-urls-negotiate',
      'logging',
      'logging-1',
    ]);
  });

  it('refuses a missing file and a missing heading', () => {
    expect(problem({ document: 'README.md', line: 1, target: 'docs/nothing.md' })).toBe(
      'docs/nothing.md does not exist',
    );
    expect(problem({ document: 'docs/testing.md', line: 1, target: '../README.md#nowhere' })).toBe(
      'README.md has no heading #nowhere',
    );
    expect(relative(ROOT, join(ROOT, 'README.md'))).toBe('README.md');
  });
});
