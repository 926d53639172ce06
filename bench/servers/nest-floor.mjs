// The framework floor: a bare Nest controller doing the same work as the module's handlers, by
// hand (HMAC-check ce-signature with node:crypto, read the body, JSON.parse system events,
// answer the same status and body). Usage: node bench/servers/nest-floor.mjs <fastify|express>
//
// Fastify: bodies arrive through Fastify's content-type parsers (JSON parsed, text as a string,
// an octet-stream parser added for bytes), as they do for the module.
// Express: created with bodyParser: false; the route reads the stream and parses JSON itself,
// the least an Express route can do (the module reads the stream itself too).
import { Controller, Module, Options, Post, Req, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  BINARY_TYPE,
  handWrittenAnswer,
  handWrittenHandshake,
  PATH,
  readBody,
} from '../lib/common.mjs';
import {
  decorateClass,
  decorateMethod,
  decorateParam,
  NEST_LOGGER,
  portOf,
  ready,
} from '../lib/server-harness.mjs';

const adapterName = process.argv[2] ?? 'fastify';

class FastifyFloorController {
  handshake(request, reply) {
    const answer = handWrittenHandshake(request.headers);
    reply.code(answer.status);
    if (answer.headers) reply.headers(answer.headers);
    if (answer.contentType) reply.header('content-type', answer.contentType);
    reply.send(answer.body);
  }

  event(request, reply) {
    const answer = handWrittenAnswer(request.headers, request.body ?? Buffer.alloc(0));
    reply.code(answer.status);
    if (answer.contentType) reply.header('content-type', answer.contentType);
    reply.send(answer.body);
  }
}

class ExpressFloorController {
  handshake(request, response) {
    const answer = handWrittenHandshake(request.headers);
    response.statusCode = answer.status;
    for (const name in answer.headers) response.setHeader(name, answer.headers[name]);
    if (answer.contentType) response.setHeader('content-type', answer.contentType);
    response.end(answer.body);
  }

  async event(request, response) {
    const body = await readBody(request);
    const answer = handWrittenAnswer(request.headers, body);
    response.statusCode = answer.status;
    if (answer.contentType) response.setHeader('content-type', answer.contentType);
    response.end(answer.body);
  }
}

const FloorController = adapterName === 'express' ? ExpressFloorController : FastifyFloorController;
for (const method of ['handshake', 'event']) {
  decorateParam(FloorController, method, 0, Req());
  decorateParam(FloorController, method, 1, Res());
}
decorateMethod(FloorController, 'handshake', Options());
decorateMethod(FloorController, 'event', Post());
decorateClass(FloorController, Controller(PATH));

class AppModule {}
decorateClass(AppModule, Module({ controllers: [FloorController] }));

let app;
if (adapterName === 'express') {
  app = await NestFactory.create(AppModule, new ExpressAdapter(), {
    logger: NEST_LOGGER,
    bodyParser: false,
  });
} else {
  app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: NEST_LOGGER });
  app
    .getHttpAdapter()
    .getInstance()
    .addContentTypeParser(BINARY_TYPE, { parseAs: 'buffer' }, (_request, body, done) =>
      done(null, body),
    );
}
await app.listen(0, '127.0.0.1');
ready(portOf(app), () => app.close());
