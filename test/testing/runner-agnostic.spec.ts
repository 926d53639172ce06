/**
 * `nestjs-web-pubsub/testing` serves every runner and HTTP client: no file of `lib/testing/`
 * imports a runner, an HTTP client, a platform or a Nest package, and none uses jest or vitest
 * globals.
 */
import { readdirSync, readFileSync } from 'node:fs';

const dir = new URL('../../lib/testing/', import.meta.url);

describe('nestjs-web-pubsub/testing imports', () => {
  const files = readdirSync(dir).filter(name => name.endsWith('.ts'));

  it.each(files)('%s imports no runner, HTTP client, platform or Nest package', file => {
    const text = readFileSync(new URL(file, dir), 'utf8');
    const specifiers = [...text.matchAll(/from\s+['"]([^'"]+)['"]/g)].map(match => match[1]);
    expect(specifiers.length).toBeGreaterThan(0);
    for (const specifier of specifiers) {
      expect(specifier).not.toMatch(
        /^(jest|@jest\/|vitest|supertest|superagent|fastify|light-my-request|express|@nestjs\/)/,
      );
    }
  });

  it('has no jest or vitest globals in its code', () => {
    for (const file of files) {
      const text = readFileSync(new URL(file, dir), 'utf8');
      expect(text).not.toMatch(/\b(jest|vi)\.(fn|spyOn|mock)\b|(?<!\.)\bexpect\(/);
    }
  });
});
