/**
 * Headless Chromium for the browser specs, through `playwright-core` (no bundled browser).
 * The browser is `CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`, else `/usr/bin/chromium-browser`.
 * When none exists the spec fails with the paths it tried: a browser test is never skipped.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

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

/** The Chromium executable to use; throws naming every path tried when there is none. */
export function findChromium(
  env: NodeJS.ProcessEnv = process.env,
  exists: (path: string) => boolean = existsSync,
): string {
  const tried: string[] = [];
  const fromEnv = env.CHROMIUM_PATH;
  const candidates = fromEnv ? [fromEnv, ...CHROMIUM_CANDIDATES] : CHROMIUM_CANDIDATES;
  for (const path of candidates) {
    if (exists(path)) return path;
    tried.push(path === fromEnv ? `${path} (CHROMIUM_PATH)` : path);
  }
  throw new Error(
    `No Chromium found; tried ${tried.join(', ')}. Install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH.`,
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
