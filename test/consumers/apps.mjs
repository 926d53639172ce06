// The scratch apps of `npm run test:consumers`: files as `nest new` (Nest 11, @nestjs/schematics
// 11) generates them, plus the module, a handler class and the specs that use it.

export const HUB = 'chat';
export const ACCESS_KEY = 'consumer-access-key-0123456789';
export const SERVICE_HOST = 'my-pubsub.webpubsub.azure.com';
export const CONNECTION_STRING = `Endpoint=https://${SERVICE_HOST};AccessKey=${ACCESS_KEY};Version=1.0;`;

/** `nest new` (schematics 11.0) `module: commonjs` tsconfig. */
export const TSCONFIG_COMMONJS = {
  compilerOptions: {
    module: 'commonjs',
    declaration: true,
    removeComments: true,
    emitDecoratorMetadata: true,
    experimentalDecorators: true,
    allowSyntheticDefaultImports: true,
    target: 'ES2021',
    sourceMap: true,
    outDir: './dist',
    baseUrl: './',
    incremental: true,
    skipLibCheck: true,
    strictNullChecks: true,
    forceConsistentCasingInFileNames: true,
    noImplicitAny: true,
    strictBindCallApply: true,
    noFallthroughCasesInSwitch: true,
  },
};

/**
 * The same app under `module: node16` (a CommonJS package: no "type" in package.json). ts-jest
 * compiles to CommonJS with its own settings, where esModuleInterop is not implied: set it, as
 * `nest new` 11.1 does.
 */
export const TSCONFIG_NODE16 = {
  compilerOptions: {
    ...TSCONFIG_COMMONJS.compilerOptions,
    module: 'node16',
    moduleResolution: 'node16',
    esModuleInterop: true,
    target: 'ES2022',
  },
};

/** `nest new` (schematics 11.1) tsconfig: `module: nodenext` in a CommonJS package. */
export const TSCONFIG_NODENEXT = {
  compilerOptions: {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    resolvePackageJsonExports: true,
    esModuleInterop: true,
    isolatedModules: true,
    declaration: true,
    removeComments: true,
    emitDecoratorMetadata: true,
    experimentalDecorators: true,
    allowSyntheticDefaultImports: true,
    target: 'ES2023',
    sourceMap: true,
    outDir: './dist',
    baseUrl: './',
    incremental: true,
    skipLibCheck: true,
    strictNullChecks: true,
    forceConsistentCasingInFileNames: true,
    noImplicitAny: true,
    strictBindCallApply: true,
    noFallthroughCasesInSwitch: true,
  },
};

const TSCONFIG_BUILD = {
  extends: './tsconfig.json',
  exclude: ['node_modules', 'test', 'dist', '**/*spec.ts'],
};

/** `nest new`'s package.json jest block and test/jest-e2e.json. */
const JEST = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: 'src',
  testRegex: '.*\\.spec\\.ts$',
  transform: { '^.+\\.(t|j)s$': 'ts-jest' },
  collectCoverageFrom: ['**/*.(t|j)s'],
  coverageDirectory: '../coverage',
  testEnvironment: 'node',
};
const JEST_E2E = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: '.',
  testEnvironment: 'node',
  testRegex: '.e2e-spec.ts$',
  transform: { '^.+\\.(t|j)s$': 'ts-jest' },
};

const HANDLERS = ext =>
  `import { Injectable } from '@nestjs/common';
import { EventData, OnConnect, OnConnected, OnDisconnected, OnUserEvent } from 'nestjs-web-pubsub';
import type { ConnectRequest, ConnectResponse, DisconnectedRequest } from 'nestjs-web-pubsub';

@Injectable()
export class ChatHandlers {
  readonly seen: string[] = [];

  @OnConnect()
  connect(request: ConnectRequest): ConnectResponse {
    return { userId: request.claims?.sub?.[0] ?? 'anonymous' };
  }

  @OnConnected()
  connected(): void {
    this.seen.push('connected');
  }

  @OnUserEvent('message')
  message(@EventData() data: string): string {
    return \`echo: \${data}\`;
  }

  @OnDisconnected()
  disconnected(request: DisconnectedRequest): void {
    this.seen.push(\`disconnected: \${request.reason ?? ''}\`);
  }
}
`.replaceAll('$EXT', ext);

const APP_MODULE = ext => `import { Module } from '@nestjs/common';
import { WebPubSubModule } from 'nestjs-web-pubsub';
import { ChatHandlers } from './chat.handlers${ext}';

@Module({
  imports: [
    WebPubSubModule.forRoot({
      hub: '${HUB}',
      connectionString: process.env.WebPubSubConnectionString || undefined,
    }),
  ],
  providers: [ChatHandlers],
})
export class AppModule {}
`;

const MAIN = (ext, platform) => `import { NestFactory } from '@nestjs/core';
${platform === 'fastify' ? "import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';\n" : ''}import { AppModule } from './app.module${ext}';

async function bootstrap() {
  const app = await NestFactory.create${platform === 'fastify' ? '<NestFastifyApplication>' : ''}(AppModule${platform === 'fastify' ? ', new FastifyAdapter()' : ''});
  await app.listen(process.env.PORT ?? 3000, '127.0.0.1');
  console.log('listening');
}
bootstrap();
`;

/**
 * A unit spec in src/ (run by the package.json jest block) that compiles the AppModule. The runner
 * sets WebPubSubConnectionString in the environment, as a real deployment does.
 */
const UNIT_SPEC = `import { Test } from '@nestjs/testing';
import { WebPubSubConfigService } from 'nestjs-web-pubsub';
import { AppModule } from './app.module';

describe('AppModule', () => {
  it('compiles with the Web PubSub module', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const config = moduleRef.get(WebPubSubConfigService);
    expect(config.hubs).toEqual(['${HUB}']);
    expect(config.signatureValidation).toBe(true);
    await moduleRef.close();
  });
});
`;

/**
 * The e2e spec: imports the AppModule and posts signed events through supertest.
 * `nest new` 11.0 (`module: commonjs`) imports supertest with `import * as request`, 11.1 with a
 * default import (esModuleInterop, implied by node16/nodenext).
 */
export const E2E_SPEC = (
  platform,
  supertestImport,
) => `import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { Test } from '@nestjs/testing';
import type { INestApplication } from '@nestjs/common';
${platform === 'fastify' ? "import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';\n" : ''}${supertestImport}
import { WebPubSubModule } from 'nestjs-web-pubsub';
import { createUserEventRequest, readUserEventResponse, sendWithSupertest } from 'nestjs-web-pubsub/testing';
import { AppModule } from './../src/app.module';
import { ChatHandlers } from './../src/chat.handlers';

const KEY = '${ACCESS_KEY}';

function headers(type: string, event: string, connectionId = 'conn-1'): Record<string, string> {
  return {
    'ce-specversion': '1.0',
    'ce-type': type,
    'ce-source': \`/hubs/${HUB}/client/\${connectionId}\`,
    'ce-id': '1',
    'ce-hub': '${HUB}',
    'ce-connectionId': connectionId,
    'ce-eventName': event,
    'ce-userId': 'alice',
    'WebHook-Request-Origin': '${SERVICE_HOST}',
    'ce-signature': 'sha256=' + createHmac('sha256', KEY).update(connectionId).digest('hex'),
  };
}

async function start(imports: any[], providers: any[] = []): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports, providers }).compile();
  const app = moduleRef.createNestApplication${platform === 'fastify' ? '<NestFastifyApplication>(new FastifyAdapter())' : '()'};
  await app.init();
${platform === 'fastify' ? '  await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();\n' : ''}  return app;
}

describe('Web PubSub event handler (e2e, ${platform})', () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await start([AppModule]);
  });

  afterAll(async () => {
    await app.close();
  });

  it('answers the abuse-protection handshake for the service host', () => {
    return request(app.getHttpServer())
      .options('/eventhandler')
      .set('WebHook-Request-Origin', '${SERVICE_HOST}')
      .expect(200)
      .expect('WebHook-Allowed-Origin', '${SERVICE_HOST}');
  });

  it('dispatches a signed user event', () => {
    return request(app.getHttpServer())
      .post('/eventhandler')
      .set(headers('azure.webpubsub.user.message', 'message'))
      .set('content-type', 'text/plain')
      .send('hello')
      .expect(200)
      .expect('echo: hello');
  });

  it('answers connect and sees connected and disconnected', async () => {
    await request(app.getHttpServer())
      .post('/eventhandler')
      .set(headers('azure.webpubsub.sys.connect', 'connect'))
      .set('content-type', 'application/json')
      .send(JSON.stringify({ claims: { sub: ['alice'] }, query: {}, headers: {}, subprotocols: [], clientCertificates: [] }))
      .expect(200)
      .expect(response => expect(JSON.parse(response.text)).toEqual({ userId: 'alice' }));
    await request(app.getHttpServer())
      .post('/eventhandler')
      .set(headers('azure.webpubsub.sys.connected', 'connected'))
      .set('content-type', 'application/json')
      .send('{}')
      .expect(204);
    await request(app.getHttpServer())
      .post('/eventhandler')
      .set(headers('azure.webpubsub.sys.disconnected', 'disconnected'))
      .set('content-type', 'application/json')
      .send(JSON.stringify({ reason: 'bye' }))
      .expect(204);
    expect(app.get(ChatHandlers).seen).toEqual(['connected', 'disconnected: bye']);
  });

  it('builds and reads events with nestjs-web-pubsub/testing (the subpath, from this module system)', async () => {
    const connectionString = 'Endpoint=https://${SERVICE_HOST};AccessKey=' + KEY + ';Version=1.0;';
    const event = createUserEventRequest({ connectionString, hub: '${HUB}', data: 'hi', dataType: 'text' });
    const response = await sendWithSupertest(request(app.getHttpServer()), event).expect(200);
    expect(readUserEventResponse(response)).toMatchObject({ dataType: 'text', data: 'echo: hi' });
  });

  it('refuses an event signed with another key', () => {
    return request(app.getHttpServer())
      .post('/eventhandler')
      .set({ ...headers('azure.webpubsub.user.message', 'message'), 'ce-signature': 'sha256=00' })
      .set('content-type', 'text/plain')
      .send('hello')
      .expect(401);
  });

  it('checks managed-identity bearer tokens with jose, loaded from CommonJS', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = \`\${encode({ alg: 'RS256', kid: 'k1', typ: 'JWT' })}.\${encode({ iss: 'https://issuer.example', aud: 'api://events', iat: now, exp: now + 600 })}\`;
    const token = \`\${unsigned}.\${sign('sha256', Buffer.from(unsigned), privateKey).toString('base64url')}\`;
    const secured = await start([
      WebPubSubModule.forRoot({
        hub: '${HUB}',
        managedIdentity: { jwks: { keys: [jwk as any] }, issuer: 'https://issuer.example', audience: 'api://events' },
      }),
    ], [ChatHandlers]);
    try {
      const post = () =>
        request(secured.getHttpServer())
          .post('/eventhandler')
          .set({ ...headers('azure.webpubsub.user.message', 'message') })
          .set('content-type', 'text/plain');
      await post().send('x').expect(401);
      await post().set('Authorization', \`Bearer \${token}\`).send('x').expect(200).expect('echo: x');
    } finally {
      await secured.close();
    }
  });
});
`;

const DEV = {
  '@types/express': '^5.0.0',
  '@types/node': '^20.19.0',
  '@types/supertest': '^6.0.0',
  supertest: '^7.0.0',
  'ts-jest': '^29.2.5',
  typescript: '~5.9.3',
};

/** Nest 11, CommonJS, Jest 29 (schematics 11.0) or Jest 30 (11.1) with ts-jest. */
export function nest11App({ platform, tarball, jest }) {
  const ext = '';
  return {
    'package.json': {
      name: `consumer-nest11-${platform}`,
      private: true,
      scripts: {
        test: 'jest',
        'test:e2e': 'jest --config ./test/jest-e2e.json',
        build: 'tsc -p tsconfig.build.json',
      },
      dependencies: {
        '@nestjs/common': '^11.0.1',
        '@nestjs/core': '^11.0.1',
        [`@nestjs/platform-${platform}`]: '^11.0.1',
        'nestjs-web-pubsub': `file:${tarball}`,
        'reflect-metadata': '^0.2.2',
        rxjs: '^7.8.1',
      },
      devDependencies: {
        ...DEV,
        '@nestjs/testing': '^11.0.1',
        '@types/jest': jest === 29 ? '^29.5.0' : '^30.0.0',
        jest: jest === 29 ? '^29.7.0' : '^30.0.0',
      },
      jest: JEST,
    },
    'tsconfig.build.json': TSCONFIG_BUILD,
    'test/jest-e2e.json': JEST_E2E,
    'src/chat.handlers.ts': HANDLERS(ext),
    'src/app.module.ts': APP_MODULE(ext),
    'src/app.module.spec.ts': UNIT_SPEC,
    'src/main.ts': MAIN(ext, platform),
  };
}

/** Nest 12, an ESM app (`"type": "module"`, `module: nodenext`), built with tsc and run with node. */
export function nest12App({ tarball }) {
  return {
    'package.json': {
      name: 'consumer-nest12-esm',
      private: true,
      type: 'module',
      scripts: { build: 'tsc -p tsconfig.build.json' },
      dependencies: {
        '@nestjs/common': '^12.0.0',
        '@nestjs/core': '^12.0.0',
        '@nestjs/platform-express': '^12.0.0',
        'nestjs-web-pubsub': `file:${tarball}`,
        'reflect-metadata': '^0.2.2',
        rxjs: '^7.8.1',
      },
      devDependencies: { '@types/node': '^20.19.0', typescript: '~5.9.3' },
    },
    'tsconfig.json': TSCONFIG_NODENEXT,
    'tsconfig.build.json': TSCONFIG_BUILD,
    'src/chat.handlers.ts': HANDLERS('.js'),
    'src/app.module.ts': APP_MODULE('.js'),
    'src/main.ts': MAIN('.js', 'express'),
  };
}

export const SUPERTEST_NAMESPACE = "import * as request from 'supertest';";
export const SUPERTEST_DEFAULT = "import request from 'supertest';";

/**
 * The app that grows through the guides (test/fixtures/guide-app: every file as the guides show
 * it) in a Nest 11 app as `nest new` makes it (Express, CommonJS, Jest 29), with the two Azure
 * packages the guides install.
 */
export function guideApp({ tarball, files }) {
  const app = nest11App({ platform: 'express', tarball, jest: 29 });
  for (const path of Object.keys(app)) if (path.startsWith('src/')) delete app[path];
  app['package.json'] = {
    ...app['package.json'],
    name: 'consumer-guide-app',
    dependencies: { ...app['package.json'].dependencies, '@azure/web-pubsub': '^1.2.0' },
    devDependencies: {
      ...app['package.json'].devDependencies,
      '@azure/web-pubsub-client': '^1.1.0',
    },
  };
  return { ...app, 'tsconfig.json': TSCONFIG_COMMONJS, ...files };
}
