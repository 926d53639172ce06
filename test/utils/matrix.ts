import type { Registration } from '../fixtures/web-pubsub-imports.js';
import { PLATFORMS, type PlatformName } from './app.js';

export interface Setup {
  platform: PlatformName;
  rawBody: boolean;
  registration: Registration;
  /** Controller path given to the module (`undefined` = the default). */
  path: string | undefined;
  /** The URL path the module serves. */
  base: string;
}

/** Every platform × rawBody × registration × (default | custom path): the matrix the e2e specs run. */
export function fullMatrix(): [string, Setup][] {
  const setups: [string, Setup][] = [];
  for (const platform of PLATFORMS) {
    for (const rawBody of [false, true]) {
      for (const registration of [
        'forRoot',
        'forRootAsync(useFactory+ConfigService)',
      ] as Registration[]) {
        for (const path of [undefined, 'api/webpubsub/hubs']) {
          const setup: Setup = {
            platform,
            rawBody,
            registration,
            path,
            base: path ? `/${path}` : '/eventhandler',
          };
          setups.push([describeSetup(setup), setup]);
        }
      }
    }
  }
  return setups;
}

/** One setup per platform with the defaults. */
export function platformsOnly(): [string, Setup][] {
  return PLATFORMS.map(platform => {
    const setup: Setup = {
      platform,
      rawBody: false,
      registration: 'forRoot',
      path: undefined,
      base: '/eventhandler',
    };
    return [platform, setup];
  });
}

function describeSetup(s: Setup): string {
  return `${s.platform}, rawBody ${s.rawBody ? 'on' : 'off'}, ${s.registration}, ${s.path ? 'custom' : 'default'} path`;
}
