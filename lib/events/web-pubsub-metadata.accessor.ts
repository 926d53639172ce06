import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { WebPubSubHandlerMetadata } from '../interfaces/web-pubsub-handler-metadata.interface.js';
import { WEB_PUBSUB_HANDLER_METADATA } from '../web-pubsub.constants.js';

/** Reads what the event decorators wrote on a method. */
@Injectable()
export class WebPubSubMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  getHandlerMetadata(target: unknown): readonly WebPubSubHandlerMetadata[] | undefined {
    // reflect-metadata throws on primitives; only functions carry handler metadata.
    if (typeof target !== 'function') return undefined;
    return this.reflector.get<WebPubSubHandlerMetadata[] | undefined>(
      WEB_PUBSUB_HANDLER_METADATA,
      target,
    );
  }
}
