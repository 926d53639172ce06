import {
  Controller,
  Get,
  Inject,
  Options,
  Post,
  Req,
  Res,
  SetMetadata,
  type Type,
} from '@nestjs/common';
import {
  FASTIFY_ROUTE_CONFIG_METADATA,
  WEB_PUBSUB_HANDSHAKE_MARKER,
  WEB_PUBSUB_ROUTE_MARKER,
} from '../web-pubsub.constants.js';
import type { PlatformRequest } from '../platforms/http-platform.js';
import { WebPubSubEventPipeline } from './web-pubsub-event.pipeline.js';

/** Both `<path>` and `<path>/:event` (URL templates with `{event}`). No wildcards: Fastify refuses them. */
const ROUTES = ['', ':event'];

/**
 * The HTTP edge of the module. Not decorated with `@Controller` itself: the module creates a
 * subclass per registration at the configured path ({@link createWebPubSubController}).
 */
export class WebPubSubController {
  // Explicit @Inject: the generated subclass carries no constructor type metadata.
  constructor(@Inject(WebPubSubEventPipeline) private readonly events: WebPubSubEventPipeline) {}

  /** Abuse-protection handshake. */
  @Options(ROUTES)
  @SetMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { [WEB_PUBSUB_HANDSHAKE_MARKER]: true })
  handshake(@Req() request: PlatformRequest, @Res() response: unknown): void {
    this.events.handshake(request, response);
  }

  /** The handshake sent as `GET`, as some senders (and the Functions extension) do. */
  @Get(ROUTES)
  @SetMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { [WEB_PUBSUB_HANDSHAKE_MARKER]: true })
  handshakeProbe(@Req() request: PlatformRequest, @Res() response: unknown): void {
    this.events.handshake(request, response);
  }

  /** One CloudEvent. */
  @Post(ROUTES)
  @SetMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { [WEB_PUBSUB_ROUTE_MARKER]: true })
  event(@Req() request: PlatformRequest, @Res() response: unknown): void | Promise<void> {
    return this.events.event(request, response);
  }
}

/** A controller class serving the event handler at `path`, with the user's class decorators. */
export function createWebPubSubController(
  path: string,
  decorators: ClassDecorator[] = [],
): Type<WebPubSubController> {
  class GeneratedWebPubSubController extends WebPubSubController {}
  Object.defineProperty(GeneratedWebPubSubController, 'name', { value: 'WebPubSubController' });
  Controller(path)(GeneratedWebPubSubController);
  for (const decorate of decorators) decorate(GeneratedWebPubSubController);
  return GeneratedWebPubSubController;
}
