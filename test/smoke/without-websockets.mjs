// `@nestjs/websockets` is an optional peer: an app that never uses WebPubSubWsAdapter must load
// the package, start and answer an event without it. Here it is made unresolvable (ESM resolve
// hook and CommonJS resolver), then an app is built on the ESM build and one on the CommonJS
// build (as a Nest 11 CommonJS app requires it), each answering a signed user event.
import assert from 'node:assert/strict';
import Module, { createRequire, register } from 'node:module';

const BLOCKED = /^@nestjs\/websockets(\/|$)/;
const hooks = `export async function resolve(specifier, context, next) {
  if (${BLOCKED}.test(specifier)) {
    const error = new Error("Cannot find package '" + specifier + "' (hidden by the smoke test)");
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (BLOCKED.test(request)) {
    const error = new Error(`Cannot find module '${request}' (hidden by the smoke test)`);
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  return resolveFilename.call(this, request, ...rest);
};
const require = createRequire(import.meta.url);
await assert.rejects(import('@nestjs/websockets'), /hidden by the smoke test/);
assert.throws(() => require('@nestjs/websockets'), /hidden by the smoke test/);

async function serve(api, testing, build) {
  const { Injectable, Module: NestModule } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  class Handlers {
    echo(request) {
      return `echo: ${request.data}`;
    }
  }
  const echo = Object.getOwnPropertyDescriptor(Handlers.prototype, 'echo');
  api.OnUserEvent('echo')(Handlers.prototype, 'echo', echo);
  Injectable()(Handlers);
  class AppModule {}
  NestModule({
    imports: [
      api.WebPubSubModule.forRoot({
        hub: 'chat',
        connectionString: testing.createTestConnectionString(),
      }),
    ],
    providers: [Handlers],
  })(AppModule);
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  try {
    const { port } = app.getHttpServer().address();
    const request = testing.createUserEventRequest({ event: 'echo', data: build });
    const response = await fetch(`http://127.0.0.1:${port}${request.url}`, {
      method: request.method,
      headers: request.headers,
      body: request.payload,
    });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), `echo: ${build}`);
    assert.equal(typeof api.WebPubSubWsAdapter, 'function', 'the adapter is exported all the same');
  } finally {
    await app.close();
  }
  console.log(`without @nestjs/websockets: the ${build} build loads and answers events`);
}

await serve(await import('nestjs-web-pubsub'), await import('nestjs-web-pubsub/testing'), 'ESM');
await serve(require('nestjs-web-pubsub'), require('nestjs-web-pubsub/testing'), 'CommonJS');
