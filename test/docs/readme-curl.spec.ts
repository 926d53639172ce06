/**
 * The curl script of docs/testing.md ("Events with curl"), run with the real curl, bash and openssl
 * against an app with the Quick start's answers (`test/fixtures/readme-curl/`), on Express and
 * Fastify, with and without a connection string, and refused (401) with a key the app does not
 * have.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppModule } from '../fixtures/readme-curl/curl-app.module.js';
import { PLATFORMS, startApp, type TestApp } from '../utils/app.js';

const root = join(import.meta.dirname ?? process.cwd(), '..', '..');
const guide = readFileSync(join(root, 'docs/testing.md'), 'utf8');
const section = guide.slice(guide.indexOf('## Events with curl'));
const script = /```bash\n([\s\S]*?)```/.exec(section)![1];

const HOST = 'my-pubsub.webpubsub.azure.com';
const CONNECTION_STRING = `Endpoint=https://${HOST};AccessKey=readme-key-0123456789;Version=1.0;`;
const OTHER_KEY = `Endpoint=https://${HOST};AccessKey=another-key-9876543210;Version=1.0;`;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Runs `commands` with bash (asynchronously: the app answers in this process); splits curl -i output into answers. */
async function runCurl(
  commands: string,
  env: Record<string, string | undefined>,
): Promise<Answer[]> {
  const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', commands], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { PATH: process.env.PATH, ...env },
  });
  return stdout
    .split(/(?=HTTP\/1\.1 \d{3} )/)
    .filter(part => part.startsWith('HTTP/'))
    .map(part => {
      const [head, ...body] = part.split('\r\n\r\n');
      const lines = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      return { status: Number(lines[0].split(' ')[1]), headers, body: body.join('\r\n\r\n') };
    });
}

describe.each(PLATFORMS)('the curl script of docs/testing.md on %s', platform => {
  let app: TestApp | undefined;
  const saved = process.env.WebPubSubConnectionString;

  async function start(connectionString: string | undefined): Promise<TestApp> {
    if (connectionString === undefined) delete process.env.WebPubSubConnectionString;
    else process.env.WebPubSubConnectionString = connectionString;
    app = await startApp(platform, { imports: [AppModule] });
    return app;
  }

  afterEach(async () => {
    await app?.close();
    app = undefined;
    if (saved === undefined) delete process.env.WebPubSubConnectionString;
    else process.env.WebPubSubConnectionString = saved;
  });

  const guideScript = (url: string) =>
    script.replaceAll('http://localhost:3000/eventhandler', `${url}/eventhandler`);

  it.each([
    ['with a connection string', CONNECTION_STRING],
    ['without a connection string', undefined],
  ])('the script works %s', async (_case, connectionString) => {
    const { url } = await start(connectionString);
    const answers = await runCurl(guideScript(url), {
      WebPubSubConnectionString: connectionString,
    });
    expect(answers.map(answer => answer.status)).toEqual([200, 200, 204, 200, 204]);
    expect(answers[0].headers['webhook-allowed-origin']).toBe(connectionString ? HOST : '*');
    expect(JSON.parse(answers[1].body)).toEqual({ userId: 'alice', groups: ['lobby'] });
    expect(answers[3].body).toBe('message 1 received');
    const state = Buffer.from(answers[3].headers['ce-connectionstate'], 'base64').toString();
    expect(JSON.parse(state)).toEqual({ visits: 1, count: 1 });
  });

  it('the script is refused with a key the app does not have (401)', async () => {
    const { url } = await start(CONNECTION_STRING);
    const answers = await runCurl(guideScript(url), { WebPubSubConnectionString: OTHER_KEY });
    expect(answers.map(answer => answer.status)).toEqual([200, 401, 401, 401, 401]);
  });
});
