/**
 * The chat sample (sample/) started in-process for the specs: its page built once per spec file
 * into a temporary folder, the app and the embedded emulator on free loopback ports.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSample, type RunningSample, type SamplePlatform } from '../../sample/start-sample.js';
// @ts-expect-error: an .mjs script without type declarations
import { buildClient } from '../../sample/build-client.mjs';
import { http } from './http.js';

export interface BuiltPage {
  readonly dir: string;
  remove(): void;
}

/** Runs the sample's page build (esbuild) into a fresh temporary folder. */
export async function buildChatPage(): Promise<BuiltPage> {
  const dir = mkdtempSync(join(tmpdir(), 'nestjs-web-pubsub-chat-page-'));
  await (buildClient as (outdir: string) => Promise<string>)(dir);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function startChatSample(
  platform: SamplePlatform,
  page: BuiltPage,
  extra: { connectionString?: string } = {},
): Promise<RunningSample> {
  return startSample({
    platform,
    port: 0,
    host: '127.0.0.1',
    hub: 'chat',
    emulatorPort: 0,
    publicDir: page.dir,
    logger: false,
    ...extra,
  });
}

/** Submits the join form as the page does (urlencoded); the `Authorization` value of the pass it answers. */
export async function joinChat(sample: RunningSample, name: string, room: string): Promise<string> {
  const response = await http(`${sample.url}join`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ name, room }).toString(),
  });
  if (response.status !== 200)
    throw new Error(`join answered ${response.status}: ${response.text}`);
  return `Bearer ${(JSON.parse(response.text) as { token: string }).token}`;
}
