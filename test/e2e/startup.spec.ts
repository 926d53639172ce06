/**
 * Start-up on Express and Fastify: duplicate blocking handlers (two `@OnConnect`, two handlers of
 * one user event) make the app fail to start naming both, while a hub-restricted handler beside an
 * unrestricted one is fine (each gets its hub, checked by dispatching to both); a handler
 * restricted to a hub the module does not serve is refused; invalid options fail the start-up under
 * each registration with a message naming the problem, never echoing an access key; an invalid
 * `path` (`/events/:id`, `/events/*`, `a b`) is refused and a valid one serves events.
 */
import { Module } from '@nestjs/common';
import {
  DuplicateWebPubSubHandlerError,
  WebPubSubModule,
  WebPubSubOptionsError,
  type WebPubSubModuleOptions,
} from '../../lib/index.js';
import {
  ConnectHandlerA,
  ConnectHandlerB,
  MessageHandlerA,
  MessageHandlerB,
  NotificationsOnlyHandler,
  EveryHubHandler,
  UnservedHubHandler,
} from '../fixtures/handler-variants.js';
import { webPubSubImport, type Registration } from '../fixtures/web-pubsub-imports.js';
import { startApp, PLATFORMS } from '../utils/app.js';
import { CONNECTION_STRING, postEvent } from '../utils/events.js';

const REGISTRATIONS: Registration[] = [
  'forRoot',
  'forRootAsync(useFactory+ConfigService)',
  'forRootAsync(useClass)',
];

describe.each(PLATFORMS)('start-up on %s', platform => {
  describe('duplicate blocking handlers make the app fail to start, naming both', () => {
    it('two @OnConnect handlers', async () => {
      const start = startApp(platform, {
        imports: [WebPubSubModule.forRoot({ hub: 'chat' })],
        providers: [ConnectHandlerA, ConnectHandlerB],
      });
      await expect(start).rejects.toThrow(DuplicateWebPubSubHandlerError);
      await expect(
        startApp(platform, {
          imports: [WebPubSubModule.forRoot({ hub: 'chat' })],
          providers: [ConnectHandlerA, ConnectHandlerB],
        }),
      ).rejects.toThrow(
        'Two handlers for connect: ConnectHandlerA.connect and ConnectHandlerB.admit',
      );
    });

    it('two handlers for the same user event', async () => {
      await expect(
        startApp(platform, {
          imports: [WebPubSubModule.forRoot({})],
          providers: [MessageHandlerA, MessageHandlerB],
        }),
      ).rejects.toThrow(
        'Two handlers for user event "message": MessageHandlerA.message and MessageHandlerB.onMessage',
      );
    });

    it('but a hub-restricted handler beside an unrestricted one is fine: each gets its hub', async () => {
      const app = await startApp(platform, {
        imports: [WebPubSubModule.forRoot({ hub: ['chat', 'notifications'] })],
        providers: [NotificationsOnlyHandler, EveryHubHandler],
      });
      try {
        const send = (hub: string) =>
          postEvent(`${app.url}/eventhandler`, 'message', 'hi', { hub, keys: [] });
        const notifications = await send('notifications');
        expect(notifications.status).toBe(200);
        expect(notifications.text).toBe('notifications got hi');
        const chat = await send('chat');
        expect(chat.status).toBe(200);
        expect(chat.text).toBe('chat got hi');
      } finally {
        await app.close();
      }
    });
  });

  it('refuses a handler restricted to a hub the module does not serve', async () => {
    await expect(
      startApp(platform, {
        imports: [WebPubSubModule.forRoot({ hub: 'chat' })],
        providers: [UnservedHubHandler],
      }),
    ).rejects.toThrow(/UnservedHubHandler\.message is restricted to hub "elsewhere"/);
  });
});

describe.each(REGISTRATIONS)('invalid options fail the start-up (%s)', registration => {
  const cases: [string, WebPubSubModuleOptions, RegExp][] = [
    [
      'a malformed connection string',
      { connectionString: 'Endpoint=not a url;AccessKey=abc' },
      /connectionString Endpoint is not a URL/,
    ],
    [
      'a connection string without Endpoint',
      { connectionString: 'AccessKey=abc;Version=1.0' },
      /connectionString has no Endpoint/,
    ],
    ['an empty hub name', { hub: '' }, /hub must not be empty/],
    ['an empty hub in a list', { hub: ['chat', ''] }, /hub \[1\] must not be empty/],
    ['a hub name with a space', { hub: 'my hub' }, /hub "my hub" is not a valid hub name/],
    ['an unknown key', { hubs: 'chat' } as WebPubSubModuleOptions, /unknown option "hubs"/],
    ['a negative maxBodySize', { maxBodySize: -1 }, /maxBodySize must not be less than 1/],
    [
      'a malformed allowed endpoint',
      { allowedEndpoints: ['https://host/path'] },
      /allowedEndpoints \[0\] "https:\/\/host\/path" must be a URL origin or a host name/,
    ],
  ];

  it.each(cases)('%s', async (_label, options, message) => {
    @Module({ imports: [webPubSubImport(registration, options)] })
    class AppModule {}
    const start = startApp('express', { imports: [AppModule] });
    await expect(start).rejects.toThrow(WebPubSubOptionsError);
    await expect(
      startApp('express', { imports: [webPubSubImport(registration, options)] }),
    ).rejects.toThrow(message);
  });

  it('never echoes an access key in the error', async () => {
    const options = {
      connectionString: 'Endpoint=https://x.webpubsub.azure.com;AccessKey=TOPSECRETKEY;Version=9.9',
    };
    const error = (await startApp('express', {
      imports: [webPubSubImport(registration, options)],
    }).then(
      () => new Error('started'),
      (e: Error) => e,
    )) as Error;
    expect(error).toBeInstanceOf(WebPubSubOptionsError);
    expect(error.message).toContain('Version "9.9"');
    expect(error.message).not.toContain('TOPSECRETKEY');
  });
});

describe('path extra', () => {
  it.each(['/events/:id', '/events/*', 'a b'])(
    'refuses route syntax in path %s synchronously',
    path => {
      expect(() => WebPubSubModule.forRoot({ path })).toThrow(WebPubSubOptionsError);
      expect(() => WebPubSubModule.forRootAsync({ path, useFactory: () => ({}) })).toThrow(
        WebPubSubOptionsError,
      );
    },
  );

  it('accepts a valid path and serves events there', async () => {
    const app = await startApp('express', {
      imports: [
        WebPubSubModule.forRoot({ path: 'hooks/webpubsub/', connectionString: CONNECTION_STRING }),
      ],
      providers: [EveryHubHandler],
    });
    try {
      const res = await postEvent(`${app.url}/hooks/webpubsub`, 'message', 'hi');
      expect(res.status).toBe(200);
      expect(res.text).toBe('chat got hi');
      expect((await postEvent(`${app.url}/eventhandler`, 'message', 'hi')).status).toBe(404);
    } finally {
      await app.close();
    }
  });
});
