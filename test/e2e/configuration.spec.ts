/**
 * Configuration on Express and Fastify: without access keys the app warns once at start-up that
 * signatures are not checked, accepts unsigned events, serves every hub when none is configured and
 * allows every origin (`WebHook-Allowed-Origin: *`); `allowedEndpoints` allow the connection
 * string's host and every allowed endpoint, one header line per allowed host;
 * `WebPubSubConfigService` and `@InjectWebPubSubOptions()` expose the resolved configuration and
 * the options as given, without keys, and are injectable app-wide with `isGlobal`; nothing
 * reachable from `WebPubSubConfigService` (its properties, enumerable or not, and what its methods
 * and getters return, deeply) holds an access key, a provided key or a connection string, while
 * events signed with each key are accepted; a Fastify `bodyLimit` below `maxBodySize` is named in a
 * start-up warning with the setting that fixes it.
 *
 * Broken on purpose: with `WebPubSubConfigService.resolvedOptions()` returning the keys, the key
 * search failed (the access key found 3 times).
 */
import { Injectable, Module } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  InjectWebPubSubOptions,
  OnUserEvent,
  WebPubSubConfigService,
  WebPubSubModule,
  type UserEventRequest,
  type WebPubSubModuleOptions,
} from '../../lib/index.js';
import { ChatHandlers } from '../fixtures/chat.handlers.js';
import { CapturingLogger, startApp, PLATFORMS, type TestApp } from '../utils/app.js';
import { ACCESS_KEY, CONNECTION_STRING, SERVICE_HOST, eventHeaders } from '../utils/events.js';
import { http } from '../utils/http.js';

@Injectable()
class OptionsReader {
  constructor(
    readonly config: WebPubSubConfigService,
    @InjectWebPubSubOptions() readonly options: WebPubSubModuleOptions,
  ) {}

  @OnUserEvent('config')
  describe(request: UserEventRequest) {
    return { hub: request.context.hub, signatureValidation: this.config.signatureValidation };
  }
}

describe.each(PLATFORMS)('without access keys on %s', platform => {
  let app: TestApp;
  const logger = new CapturingLogger();
  beforeAll(async () => {
    app = await startApp(
      platform,
      { imports: [WebPubSubModule.forRoot({})], providers: [ChatHandlers, OptionsReader] },
      { logger },
    );
  });
  afterAll(() => app?.close());

  it('warns once at start-up that signatures are not checked', () => {
    expect(
      logger.messages('warn').filter(line => line.includes('ce-signature is NOT checked')),
    ).toHaveLength(1);
  });

  it('accepts unsigned events', async () => {
    const res = await http(`${app.url}/eventhandler`, {
      method: 'POST',
      headers: eventHeaders('message', { keys: [] }),
      body: 'x',
    });
    expect(res.status).toBe(200);
  });

  it('serves every hub when no hub is configured', async () => {
    const res = await http(`${app.url}/eventhandler`, {
      method: 'POST',
      headers: eventHeaders('config', { hub: 'Anything_1', keys: [] }),
      body: 'x',
    });
    expect(JSON.parse(res.text)).toEqual({ hub: 'Anything_1', signatureValidation: false });
  });

  it('allows every origin in the handshake: WebHook-Allowed-Origin: *', async () => {
    const res = await http(`${app.url}/eventhandler`, {
      method: 'OPTIONS',
      headers: { 'WebHook-Request-Origin': 'whatever.example.com' },
    });
    expect(res.status).toBe(200);
    expect(res.headerLines['webhook-allowed-origin']).toEqual(['*']);
  });
});

describe.each(PLATFORMS)('allowedEndpoints on %s', platform => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startApp(platform, {
      imports: [
        WebPubSubModule.forRoot({
          connectionString: CONNECTION_STRING,
          allowedEndpoints: ['https://Replica.WebPubSub.Azure.com', 'custom.domain.example'],
        }),
      ],
      providers: [ChatHandlers],
    });
  });
  afterAll(() => app?.close());

  it('allows the connection string host and every allowed endpoint, one header line per allowed host', async () => {
    const origin = `replica.webpubsub.azure.com,custom.domain.example ${SERVICE_HOST} stranger.example`;
    const res = await http(`${app.url}/eventhandler`, {
      method: 'OPTIONS',
      headers: { 'WebHook-Request-Origin': origin },
    });
    expect(res.status).toBe(200);
    expect(res.headerLines['webhook-allowed-origin']).toEqual([
      'replica.webpubsub.azure.com',
      'custom.domain.example',
      SERVICE_HOST,
    ]);
  });
});

const isNative = (constructor: unknown) =>
  typeof constructor !== 'function' ||
  /\{\s*\[native code\]\s*\}/.test(Function.prototype.toString.call(constructor));

/**
 * Every string reachable from `root`: own properties of every object (enumerable or not, symbols
 * included), Map and Set entries, array items, and the results of its methods, called with 'x'.
 */
function reachableStrings(root: object): string[] {
  const strings: string[] = [];
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number): void => {
    if (typeof value === 'string') {
      strings.push(value);
      return;
    }
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return;
    if (seen.has(value) || depth > 8) return;
    seen.add(value);
    if (typeof value === 'function') return;
    if (value instanceof Map) {
      for (const [key, entry] of value) {
        visit(key, depth + 1);
        visit(entry, depth + 1);
      }
    }
    if (value instanceof Set) for (const entry of value) visit(entry, depth + 1);
    for (const key of Reflect.ownKeys(value)) {
      if (typeof key === 'string') strings.push(key);
      visit((value as Record<PropertyKey, unknown>)[key], depth + 1);
    }
    // Methods and getters of its class and the classes above it, up to a built-in one (Array,
    // Map, Object…, whose methods are not called): call each and look at the result.
    for (let proto = Object.getPrototypeOf(value); proto && !isNative(proto.constructor);) {
      for (const key of Reflect.ownKeys(proto)) {
        if (key === 'constructor') continue;
        const descriptor = Object.getOwnPropertyDescriptor(proto, key);
        let result: unknown;
        try {
          result = descriptor?.get
            ? descriptor.get.call(value)
            : typeof descriptor?.value === 'function'
              ? descriptor.value.call(value, 'x')
              : undefined;
        } catch {
          continue;
        }
        visit(result, depth + 1);
      }
      proto = Object.getPrototypeOf(proto);
    }
  };
  visit(root, 0);
  return strings;
}

describe('WebPubSubConfigService and @InjectWebPubSubOptions()', () => {
  it('expose the resolved configuration and the options as given, without keys', async () => {
    @Module({
      imports: [
        WebPubSubModule.forRoot({
          hub: ['Chat', 'news'],
          connectionString: [CONNECTION_STRING, 'Endpoint=http://localhost;Port=8080;Version=1.0;'],
          allowedEndpoints: ['extra.example.com'],
          maxBodySize: 2048,
          path: '/hooks',
        }),
      ],
      providers: [OptionsReader],
    })
    class AppModule {}
    const app = await startApp('express', { imports: [AppModule] });
    try {
      const reader = app.app.get(OptionsReader);
      const config = reader.config;
      expect(config.hubs).toEqual(['Chat', 'news']);
      expect(config.path).toBe('/hooks');
      expect(config.endpoints).toEqual([
        { endpoint: `https://${SERVICE_HOST}`, host: SERVICE_HOST, hasAccessKey: true },
        { endpoint: 'http://localhost:8080', host: 'localhost', hasAccessKey: false },
      ]);
      expect(config.allowedOrigins).toEqual([SERVICE_HOST, 'localhost', 'extra.example.com']);
      expect(config.signatureValidation).toBe(true);
      expect(config.maxBodySize).toBe(2048);
      expect(config.servesHub('CHAT')).toBe(true);
      expect(config.servesHub('other')).toBe(false);
      expect(reader.options.maxBodySize).toBe(2048);
      expect((reader.options as Record<string, unknown>).path).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it('holds no access key or connection string in any member, public or private', async () => {
    const KEY_B = 'second-resource-key-4455';
    const PROVIDED = 'provided-key-7788';
    @Module({
      imports: [
        WebPubSubModule.forRoot({
          connectionString: [
            CONNECTION_STRING,
            `Endpoint=https://b.webpubsub.azure.com;AccessKey=${KEY_B};Version=1.0;`,
          ],
          accessKeyProvider: () => [PROVIDED],
        }),
      ],
      providers: [OptionsReader],
    })
    class AppModule {}
    const app = await startApp('express', { imports: [AppModule] });
    try {
      const config = app.app.get(OptionsReader).config;
      // Events signed with either key are accepted: the keys are in use …
      for (const key of [ACCESS_KEY, KEY_B]) {
        const host = key === KEY_B ? 'b.webpubsub.azure.com' : SERVICE_HOST;
        const res = await http(`${app.url}/eventhandler`, {
          method: 'POST',
          headers: eventHeaders('config', {
            keys: [key],
            extra: { 'WebHook-Request-Origin': host },
          }),
          body: 'x',
        });
        expect(res.status).toBe(200);
      }
      // … and yet nothing reachable from the service's members holds one: every property
      // (enumerable or not), every method's result (called with a hub name), deeply.
      const reachable = reachableStrings(config);
      expect(reachable.length).toBeGreaterThan(10);
      for (const secret of [ACCESS_KEY, KEY_B, PROVIDED, 'AccessKey=']) {
        expect(reachable.filter(text => text.includes(secret))).toEqual([]);
      }
    } finally {
      await app.close();
    }
  });

  it('is injectable app-wide with isGlobal', async () => {
    @Injectable()
    class Consumer {
      constructor(readonly config: WebPubSubConfigService) {}
    }
    @Module({ providers: [Consumer] })
    class FeatureModule {}
    const app = await startApp('fastify', {
      imports: [
        WebPubSubModule.forRootAsync({ isGlobal: true, useFactory: () => ({ hub: 'chat' }) }),
        FeatureModule,
      ],
    });
    try {
      expect(app.app.get(Consumer).config.hubs).toEqual(['chat']);
    } finally {
      await app.close();
    }
  });
});

describe('a Fastify bodyLimit below maxBodySize', () => {
  it('is named in a start-up warning with the setting that fixes it', async () => {
    const logger = new CapturingLogger();
    const app = await startApp(
      'fastify',
      { imports: [WebPubSubModule.forRoot({ hub: 'chat', maxBodySize: 4_194_304 })] },
      {
        logger,
        adapter: () =>
          new FastifyAdapter({ bodyLimit: 1_048_576 }) as unknown as AbstractHttpAdapter,
      },
    );
    try {
      expect(logger.messages('warn')).toContain(
        "Fastify's bodyLimit (1048576 bytes) is below maxBodySize (4194304 bytes): with rawBody: true, JSON events above " +
          '1048576 bytes are refused with 413. Create the adapter with new FastifyAdapter({ bodyLimit: 4194304 }).',
      );
    } finally {
      await app.close();
    }
  });
});
