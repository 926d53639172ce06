/**
 * The service client on Express and Fastify, 41 tests per platform. With `forRoot` and
 * `forRootAsync` (hub next to `useFactory`): `@InjectWebPubSubServiceClient('chat')`, the default
 * hub and `WebPubSubServiceClients.get()` give the same official `WebPubSubServiceClient` per hub,
 * whatever the case; `sendToAll` and a group send reach the `http://` loopback endpoint
 * (`test/utils/loopback-service.ts`) without any flag (`POST /api/hubs/chat/:send`,
 * `api-version=2024-12-01`, an HS256 bearer token verified with `jose` against the key, audience =
 * the request URL, lifetime 3,600 s); an event-handler-only app starts without client credentials;
 * `overrideProvider(getWebPubSubServiceClientToken('chat'))` reaches injection and `get()`;
 * `endpoint` + `TokenCredential` / `AzureKeyCredential`; `isGlobal`; eleven start-up errors, each
 * message asserted (a credential of neither kind, an endpoint that is not an origin, non-object
 * `serviceClientOptions`, no credentials, keyless connection string, endpoint without credential,
 * `TokenCredential` over http, unknown hub at run time listing the configured ones, no default
 * among several hubs, `defaultHub` not served, no hub) and the `forRootAsync` hub mismatch; a
 * decorator naming a hub the module does not serve fails the start-up with
 * `UnknownWebPubSubHubError` listing `"chat", "lobby"`; the hub tokens are singletons
 * (`app.get(token)` is the injected client, whatever the case); without credentials and no
 * injection the app starts and the first use of `app.get(token)` (SDK method or `hubName`, default
 * token too) throws the missing-credentials error, while a property injection or a factory's
 * `inject` of the token fails the start-up.
 *
 * Broken on purpose: making the injection check always say "not injected" fails the start-up-error
 * tests, always "injected" the credential-free tests; breaking the automatic
 * `allowInsecureConnection` fails the http test.
 */
import { Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { AzureKeyCredential, WebPubSubServiceClient } from '@azure/web-pubsub';
import { jwtVerify } from 'jose';
import {
  getWebPubSubServiceClientToken,
  InjectWebPubSubServiceClient,
  UnknownWebPubSubHubError,
  WebPubSubModule,
  WebPubSubServiceClients,
  type WebPubSubModuleOptions,
} from '../../lib/index.js';
import { PLATFORMS, startApp, type PlatformName, type TestApp } from '../utils/app.js';
import { LoopbackService } from '../utils/loopback-service.js';

const CS_PLACEHOLDER = 'Endpoint=https://my-pubsub.webpubsub.azure.com;AccessKey=abc;Version=1.0;';
const KEY = 'loopback-access-key-0123456789abcdef';
const connectionString = (endpoint: string, key: string | undefined = KEY) =>
  `Endpoint=${endpoint};${key ? `AccessKey=${key};` : ''}Version=1.0;`;

@Injectable()
class ChatNotifier {
  constructor(
    @InjectWebPubSubServiceClient('chat') readonly chat: WebPubSubServiceClient,
    @InjectWebPubSubServiceClient('Notifications') readonly notifications: WebPubSubServiceClient,
    readonly clients: WebPubSubServiceClients,
  ) {}
}

@Injectable()
class DefaultHubUser {
  constructor(@InjectWebPubSubServiceClient() readonly client: WebPubSubServiceClient) {}
}

@Injectable()
class ChatOnly {
  constructor(@InjectWebPubSubServiceClient('chat') readonly client: WebPubSubServiceClient) {}
}

@Injectable()
class RuntimeLookup implements OnModuleInit {
  constructor(readonly clients: WebPubSubServiceClients) {}
  onModuleInit(): void {
    this.clients.get('typo');
  }
}

type Registration = 'forRoot' | 'forRootAsync';

/** The module with `hub`, `defaultHub` static in both registrations (next to useFactory in async). */
function register(
  registration: Registration,
  options: WebPubSubModuleOptions,
  statics: { hub?: string | string[]; defaultHub?: string } = {},
) {
  return registration === 'forRoot'
    ? WebPubSubModule.forRoot({ ...options, ...statics })
    : WebPubSubModule.forRootAsync({ ...statics, useFactory: async () => options });
}

describe.each(PLATFORMS)('service client on %s', (platform: PlatformName) => {
  let service: LoopbackService;
  beforeAll(async () => {
    service = await LoopbackService.start();
  });
  afterAll(() => service.close());

  describe.each<Registration>(['forRoot', 'forRootAsync'])('%s', registration => {
    let app: TestApp;
    afterEach(() => app?.close());

    it('injects the official client by hub, by default hub and through WebPubSubServiceClients', async () => {
      app = await startApp(platform, {
        imports: [
          register(
            registration,
            { connectionString: connectionString(service.endpoint) },
            { hub: ['chat', 'notifications'], defaultHub: 'Chat' },
          ),
        ],
        providers: [ChatNotifier, DefaultHubUser],
      });
      const notifier = app.app.get(ChatNotifier);
      expect(notifier.chat).toBeInstanceOf(WebPubSubServiceClient);
      expect(notifier.chat.hubName).toBe('chat');
      expect(notifier.notifications.hubName).toBe('notifications');
      expect(notifier.chat.endpoint).toBe(service.endpoint);
      // One client per hub, whoever asks and however the hub is spelled.
      expect(app.app.get(DefaultHubUser).client).toBe(notifier.chat);
      expect(notifier.clients.get('CHAT')).toBe(notifier.chat);
      expect(notifier.clients.get()).toBe(notifier.chat);
      expect(notifier.clients.get('notifications')).toBe(notifier.notifications);
      expect(notifier.clients.hubs).toEqual(['chat', 'notifications']);
      expect(await app.app.resolve(getWebPubSubServiceClientToken('chat'))).toBe(notifier.chat);
    });

    it('the only hub is the default hub', async () => {
      app = await startApp(platform, {
        imports: [
          register(
            registration,
            { connectionString: connectionString(service.endpoint) },
            { hub: 'chat' },
          ),
        ],
        providers: [DefaultHubUser],
      });
      expect(app.app.get(DefaultHubUser).client.hubName).toBe('chat');
    });

    it('talks to the http:// endpoint over HTTP with a key-signed bearer token (no extra flag)', async () => {
      app = await startApp(platform, {
        imports: [
          register(
            registration,
            { connectionString: connectionString(service.endpoint) },
            { hub: 'chat' },
          ),
        ],
        providers: [ChatOnly],
      });
      const before = service.requests.length;
      await app.app.get(ChatOnly).client.sendToAll({ hello: 'world' });
      await app.app
        .get(ChatOnly)
        .client.group('room1')
        .sendToAll('hi', { contentType: 'text/plain' });
      const [send, groupSend] = service.requests.slice(before);
      expect(send).toMatchObject({
        method: 'POST',
        path: '/api/hubs/chat/:send',
        apiVersion: '2024-12-01',
      });
      expect(JSON.parse(send.body)).toEqual({ hello: 'world' });
      expect(groupSend).toMatchObject({
        method: 'POST',
        path: '/api/hubs/chat/groups/room1/:send',
      });
      for (const request of [send, groupSend]) {
        const { payload } = await jwtVerify(request.bearer!, new TextEncoder().encode(KEY), {
          audience: request.url,
        });
        expect(payload.exp! - payload.iat!).toBe(3600);
      }
    });

    it('an app that handles events only needs no client credentials', async () => {
      app = await startApp(platform, {
        imports: [register(registration, {}, { hub: 'chat' })],
      });
      expect(() => app.app.get(WebPubSubServiceClients).get('chat')).toThrow(
        'Hub "chat" has no credentials for its WebPubSubServiceClient',
      );
      expect(() => app.app.get(getWebPubSubServiceClientToken('chat')).sendToAll('x')).toThrow(
        'Hub "chat" has no credentials for its WebPubSubServiceClient',
      );
    });

    it('a client put in place of the hub token is what everyone gets', async () => {
      const fake = { hubName: 'chat', fake: true };
      const { Test } = await import('@nestjs/testing');
      const moduleRef = await Test.createTestingModule({
        imports: [register(registration, {}, { hub: 'chat' })],
        providers: [ChatOnly, DefaultHubUser],
      })
        .overrideProvider(getWebPubSubServiceClientToken('chat'))
        .useValue(fake)
        .compile();
      expect(moduleRef.get(ChatOnly).client).toBe(fake);
      expect(moduleRef.get(WebPubSubServiceClients).get('chat')).toBe(fake);
      expect(moduleRef.get(DefaultHubUser).client).toBe(fake);
      await moduleRef.close();
    });

    it('builds from endpoint + credential', async () => {
      const tokenCredential = { getToken: async () => ({ token: 't', expiresOnTimestamp: 0 }) };
      app = await startApp(platform, {
        imports: [
          register(
            registration,
            { endpoint: 'https://my-pubsub.webpubsub.azure.com', credential: tokenCredential },
            { hub: 'chat' },
          ),
        ],
        providers: [ChatOnly],
      });
      const client = app.app.get(ChatOnly).client;
      expect(client.endpoint).toBe('https://my-pubsub.webpubsub.azure.com');
      expect((client as unknown as { credential: unknown }).credential).toBe(tokenCredential);
      await app.close();
      // An AzureKeyCredential reaches an http endpoint too.
      app = await startApp(platform, {
        imports: [
          register(
            registration,
            { endpoint: service.endpoint, credential: new AzureKeyCredential(KEY) },
            { hub: 'chat' },
          ),
        ],
        providers: [ChatOnly],
      });
      const before = service.requests.length;
      await app.app.get(ChatOnly).client.sendToAll('plain', { contentType: 'text/plain' });
      const request = service.requests[before];
      await jwtVerify(request.bearer!, new TextEncoder().encode(KEY), { audience: request.url });
    });

    describe('start-up errors', () => {
      const cases: [
        string,
        WebPubSubModuleOptions,
        { hub?: string | string[]; defaultHub?: string },
        unknown[],
        string | RegExp,
      ][] = [
        [
          'a hub with no credentials',
          {},
          { hub: 'chat' },
          [ChatOnly],
          'Hub "chat" has no credentials for its WebPubSubServiceClient: give connectionString ("Endpoint=https://<name>.webpubsub.azure.com;AccessKey=<key>;Version=1.0;") or endpoint + credential (a TokenCredential from @azure/identity)',
        ],
        [
          'a connection string without a key and no credential',
          { connectionString: 'Endpoint=https://keyless.webpubsub.azure.com;Version=1.0;' },
          { hub: 'chat' },
          [ChatOnly],
          'The connection string of https://keyless.webpubsub.azure.com has no AccessKey and no credential is configured: hub "chat"\'s WebPubSubServiceClient needs an AccessKey in the connection string or a credential (a TokenCredential from @azure/identity)',
        ],
        [
          'an endpoint without a credential',
          { endpoint: 'https://my-pubsub.webpubsub.azure.com' },
          { hub: 'chat' },
          [ChatOnly],
          'endpoint https://my-pubsub.webpubsub.azure.com is set but no credential',
        ],
        [
          'a TokenCredential for an http endpoint',
          { endpoint: 'http://localhost:8080', credential: { getToken: async () => null } },
          { hub: 'chat' },
          [ChatOnly],
          "endpoint http://localhost:8080 uses http, where the SDK refuses to send a TokenCredential's bearer token",
        ],
        [
          'an unknown hub asked for at run time',
          { connectionString: CS_PLACEHOLDER },
          { hub: ['chat', 'notifications'] },
          [RuntimeLookup],
          'No WebPubSubServiceClient for hub "typo": the configured hubs are "chat", "notifications"',
        ],
        [
          'no hub name with several hubs and no defaultHub',
          { connectionString: CS_PLACEHOLDER },
          { hub: ['chat', 'notifications'] },
          [DefaultHubUser],
          'A WebPubSubServiceClient was asked for without a hub name, but several hubs are served ("chat", "notifications") and no defaultHub is set: name the hub',
        ],
        [
          'a defaultHub that is not served',
          { connectionString: CS_PLACEHOLDER },
          { hub: ['chat'], defaultHub: 'lobby' },
          [],
          'defaultHub "lobby" is not one of the hubs served ("chat")',
        ],
        [
          'a credential that is neither kind',
          { endpoint: 'https://my-pubsub.webpubsub.azure.com', credential: {} as never },
          { hub: 'chat' },
          [],
          'credential must be a TokenCredential (e.g. DefaultAzureCredential from @azure/identity) or an AzureKeyCredential',
        ],
        [
          'an endpoint that is not an http(s) origin',
          { endpoint: 'https://my-pubsub.webpubsub.azure.com/api?x=1' },
          { hub: 'chat' },
          [],
          'endpoint "https://my-pubsub.webpubsub.azure.com/api?x=1" must be a URL origin (scheme, host and port only)',
        ],
        [
          'serviceClientOptions that are not an object',
          { connectionString: CS_PLACEHOLDER, serviceClientOptions: 'retry' as never },
          { hub: 'chat' },
          [],
          'serviceClientOptions must be an object',
        ],
        [
          'no hub at all',
          { connectionString: CS_PLACEHOLDER },
          {},
          [DefaultHubUser],
          'A WebPubSubServiceClient was asked for without a hub name, and no hub is configured',
        ],
      ];
      it.each(cases)('%s', async (_name, options, statics, providers, message) => {
        const start = startApp(platform, {
          imports: [register(registration, options, statics)],
          providers: providers as never[],
        });
        await expect(start).rejects.toThrow(message);
      });
    });
  });

  it('isGlobal: modules that do not import WebPubSubModule inject the clients', async () => {
    @Module({ providers: [ChatOnly, DefaultHubUser], exports: [ChatOnly, DefaultHubUser] })
    class FeatureModule {}
    const app = await startApp(platform, {
      imports: [
        WebPubSubModule.forRoot({ hub: 'chat', connectionString: CS_PLACEHOLDER, isGlobal: true }),
        FeatureModule,
      ],
    });
    expect(app.app.get(ChatOnly).client.hubName).toBe('chat');
    expect(app.app.get(DefaultHubUser).client).toBe(app.app.get(ChatOnly).client);
    await app.close();
  });

  it('@InjectWebPubSubServiceClient of a hub the module does not serve: the start-up error lists the configured hubs', async () => {
    @Injectable()
    class TypoUser {
      constructor(@InjectWebPubSubServiceClient('chta') readonly client: WebPubSubServiceClient) {}
    }
    await expect(
      startApp(platform, {
        imports: [
          WebPubSubModule.forRoot({ hub: ['chat', 'lobby'], connectionString: CS_PLACEHOLDER }),
        ],
        providers: [TypoUser],
      }),
    ).rejects.toThrow(
      'No WebPubSubServiceClient for hub "chta": the configured hubs are "chat", "lobby"',
    );
  });

  it('the hub tokens are singletons: app.get(token) gives the injected client', async () => {
    const app = await startApp(platform, {
      imports: [
        WebPubSubModule.forRoot({ hub: ['chat', 'lobby'], connectionString: CS_PLACEHOLDER }),
      ],
      providers: [ChatOnly],
    });
    const chat = app.app.get(ChatOnly).client;
    expect(app.app.get(getWebPubSubServiceClientToken('chat'))).toBe(chat);
    expect(app.app.get(getWebPubSubServiceClientToken('CHAT'))).toBe(chat);
    expect(app.app.get(getWebPubSubServiceClientToken('lobby')).hubName).toBe('lobby');
    expect(app.app.get(WebPubSubServiceClients).get('lobby')).toBe(
      app.app.get(getWebPubSubServiceClientToken('lobby')),
    );
    await app.close();
  });

  it('without credentials and nothing injecting a client: the app starts, and using a client names what is missing', async () => {
    const app = await startApp(platform, {
      imports: [WebPubSubModule.forRoot({ hub: 'chat' })],
    });
    const client = app.app.get<WebPubSubServiceClient>(getWebPubSubServiceClientToken('chat'));
    const message = 'Hub "chat" has no credentials for its WebPubSubServiceClient';
    expect(() => client.sendToAll('hi', { contentType: 'text/plain' })).toThrow(message);
    expect(() => client.hubName).toThrow(message);
    expect(() =>
      app.app.get<WebPubSubServiceClient>(getWebPubSubServiceClientToken()).group('a'),
    ).toThrow(message);
    expect(() => app.app.get(WebPubSubServiceClients).get('chat')).toThrow(message);
    await app.close();
  });

  it('without credentials, a property injection or a factory injecting the token fails the start-up', async () => {
    @Injectable()
    class PropertyUser {
      @InjectWebPubSubServiceClient('chat') readonly client!: WebPubSubServiceClient;
    }
    const message = 'Hub "chat" has no credentials for its WebPubSubServiceClient';
    await expect(
      startApp(platform, {
        imports: [WebPubSubModule.forRoot({ hub: 'chat' })],
        providers: [PropertyUser],
      }),
    ).rejects.toThrow(message);
    await expect(
      startApp(platform, {
        imports: [WebPubSubModule.forRoot({ hub: 'chat' })],
        providers: [
          {
            provide: 'SENDER',
            inject: [getWebPubSubServiceClientToken('chat')],
            useFactory: (client: WebPubSubServiceClient) => client,
          },
        ],
      }),
    ).rejects.toThrow(message);
  });

  it('an unknown hub is an UnknownWebPubSubHubError', async () => {
    const app = await startApp(platform, {
      imports: [WebPubSubModule.forRoot({ hub: 'chat', connectionString: CS_PLACEHOLDER })],
    });
    expect(() => app.app.get(WebPubSubServiceClients).get('lobby')).toThrow(
      UnknownWebPubSubHubError,
    );
    await app.close();
  });

  it('forRootAsync: hub next to useFactory and a different hub from the factory fail the start-up', async () => {
    await expect(
      startApp(platform, {
        imports: [
          WebPubSubModule.forRootAsync({ hub: 'chat', useFactory: () => ({ hub: 'lobby' }) }),
        ],
      }),
    ).rejects.toThrow(
      'hub given next to useFactory (chat) differs from the hub the factory returned (lobby)',
    );
  });
});
