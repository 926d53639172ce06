import {
  Controller,
  Get,
  Header,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Req,
  UseGuards,
  type CanActivate,
  type Type,
} from '@nestjs/common';
import type { WebPubSubNegotiateResponse } from '../interfaces/web-pubsub-service-client.interface.js';
import { WebPubSubNegotiator } from './web-pubsub-negotiator.js';

/** `<path>` (the default hub) and `<path>/:hub`. */
const ROUTES = ['', ':hub'];

/**
 * The negotiate route. Not decorated with `@Controller` itself: the module creates a subclass at
 * the configured path with the configured guards and decorators ({@link createNegotiateController}).
 */
export class WebPubSubNegotiateController {
  // Explicit @Inject: the generated subclass carries no constructor type metadata.
  constructor(@Inject(WebPubSubNegotiator) private readonly negotiator: WebPubSubNegotiator) {}

  @Get(ROUTES)
  @Header('Cache-Control', 'no-store')
  get(
    @Req() request: unknown,
    @Param('hub') hub: string | undefined,
    @Query('protocol') protocol: unknown,
  ): Promise<WebPubSubNegotiateResponse> {
    return this.negotiator.negotiate(request, hub, protocol);
  }

  /** The same as `GET` (the body is ignored: identity never comes from the request). */
  @Post(ROUTES)
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  post(
    @Req() request: unknown,
    @Param('hub') hub: string | undefined,
    @Query('protocol') protocol: unknown,
  ): Promise<WebPubSubNegotiateResponse> {
    return this.negotiator.negotiate(request, hub, protocol);
  }
}

/** A negotiate controller class at `path`, with the configured guards and class decorators. */
export function createNegotiateController(
  path: string,
  guards: (Type<CanActivate> | CanActivate)[] = [],
  decorators: ClassDecorator[] = [],
): Type<WebPubSubNegotiateController> {
  class GeneratedNegotiateController extends WebPubSubNegotiateController {}
  Object.defineProperty(GeneratedNegotiateController, 'name', {
    value: 'WebPubSubNegotiateController',
  });
  Controller(path)(GeneratedNegotiateController);
  if (guards.length > 0) UseGuards(...guards)(GeneratedNegotiateController);
  for (const decorate of decorators) decorate(GeneratedNegotiateController);
  return GeneratedNegotiateController;
}
