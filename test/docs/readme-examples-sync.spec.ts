/** The examples of docs/testing.md ("Handler tests") are these spec files, character for character. */
import { readFileSync } from 'node:fs';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

describe('docs/testing.md examples', () => {
  const readme = read('../../docs/testing.md');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map(match => match[1]);

  it.each([
    'readme-example.spec.ts',
    'readme-example-fastify.spec.ts',
    'readme-example-fake-client.spec.ts',
  ])('%s is a block of docs/testing.md', file => {
    expect(blocks).toContain(read(`./${file}`));
  });
});
