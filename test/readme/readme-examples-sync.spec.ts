import { readFileSync } from 'node:fs';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

/** The README's "Testing your handlers" examples are these spec files, character for character. */
describe('README testing examples', () => {
  const readme = read('../../README.md');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map(match => match[1]);

  it.each([
    'readme-example.spec.ts',
    'readme-example-fastify.spec.ts',
    'readme-example-fake-client.spec.ts',
  ])('%s is a README code block', file => {
    expect(blocks).toContain(read(`./${file}`));
  });
});
