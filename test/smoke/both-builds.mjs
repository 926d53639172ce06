// An app that ends up with both builds loaded (an ESM file imports the package, a CommonJS
// dependency requires it): tokens and metadata keys are strings, so handlers decorated with one
// build's decorators are found and dispatched by the other build's module, and options injected
// with one build's decorator come from the other build's module: `WEB_PUBSUB_MODULE_OPTIONS` is the
// same string in both, and a handler decorated with the CommonJS build's `@OnUserEvent()`,
// `@EventData()` and `@InjectWebPubSubOptions()` answers 200 "chat:hello" through the ESM build's
// module, and the other way round. Seen failing (status 204) with the CommonJS build's handler
// metadata key a `Symbol()`.
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

const esm = await import('nestjs-web-pubsub');
const cjs = createRequire(import.meta.url)('nestjs-web-pubsub');
assert.notEqual(esm.WebPubSubModule, cjs.WebPubSubModule, 'two builds are loaded');
assert.equal(esm.WEB_PUBSUB_MODULE_OPTIONS, cjs.WEB_PUBSUB_MODULE_OPTIONS);

/** A handler host decorated with `decorators`' build; the module comes from the other build. */
function handlers(decorators) {
  class Handlers {
    constructor(options) {
      this.options = options;
    }
    echo(data) {
      return `${this.options.hub}:${data}`;
    }
  }
  Injectable()(Handlers);
  decorators.InjectWebPubSubOptions()(Handlers, undefined, 0);
  Reflect.defineMetadata('design:paramtypes', [Object], Handlers);
  const descriptor = Object.getOwnPropertyDescriptor(Handlers.prototype, 'echo');
  decorators.EventData()(Handlers.prototype, 'echo', 0);
  decorators.OnUserEvent('echo')(Handlers.prototype, 'echo', descriptor);
  Object.defineProperty(Handlers.prototype, 'echo', descriptor);
  return Handlers;
}

async function run(moduleBuild, decoratorBuild, label) {
  class AppModule {}
  Module({
    imports: [moduleBuild.WebPubSubModule.forRoot({ hub: 'chat' })],
    providers: [handlers(decoratorBuild)],
  })(AppModule);
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  try {
    const { port } = app.getHttpServer().address();
    const response = await fetch(`http://127.0.0.1:${port}/eventhandler`, {
      method: 'POST',
      headers: {
        'ce-specversion': '1.0',
        'ce-type': 'azure.webpubsub.user.echo',
        'ce-source': '/hubs/chat/client/c1',
        'ce-id': '1',
        'ce-hub': 'chat',
        'ce-connectionId': 'c1',
        'ce-eventName': 'echo',
        'WebHook-Request-Origin': 'example.webpubsub.azure.com',
        'content-type': 'text/plain',
      },
      body: 'hello',
    });
    assert.equal(response.status, 200, label);
    assert.equal(await response.text(), 'chat:hello', label);
    const service = app.get(moduleBuild.WebPubSubConfigService);
    assert.deepEqual(service.hubs, ['chat'], label);
    console.log(`both builds: ${label} ok`);
  } finally {
    await app.close();
  }
}

await run(esm, cjs, 'ESM module, CommonJS decorators');
await run(cjs, esm, 'CommonJS module, ESM decorators');
