/**
 * Headless Chromium for the browser specs, through `playwright-core` (no bundled browser).
 * The browser is `CHROMIUM_PATH`, else `chromium` or `chromium-browser` on PATH.
 * When none exists the spec fails with the paths it tried: a browser test is never skipped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { locateChromium } from '../../scripts/test-prerequisites.mjs';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * The Chromium executable to use (the rule lives in scripts/test-prerequisites.mjs, which `npm test`
 * runs first); throws naming what was looked for when there is none.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const found = locateChromium(env);
  if (found.path) return found.path;
  throw new Error(
    `No Chromium found; looked for ${(found.tried ?? []).join(', ')}. Install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH.`,
  );
}

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Launches headless Chromium with a fresh user-data-dir, removed again by `close()`. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = findChromium();
  const userDataDir = mkdtempSync(join(tmpdir(), 'nestjs-web-pubsub-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 900 },
    });
    return {
      context,
      close: async () => {
        await context.close();
        rmSync(userDataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw error;
  }
}
