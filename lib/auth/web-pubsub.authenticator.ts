import { Inject, Injectable, Optional, type OnModuleInit, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { EventHeaders, IncomingHeaders } from '../protocol/cloud-event.reader.js';
import { headerValue } from '../protocol/cloud-event.reader.js';
import { ProtocolError } from '../protocol/protocol.error.js';
import type { SignatureVerifier } from '../protocol/signature.js';
import { quote } from '../protocol/text.js';
import {
  AccessKeyStore,
  type AccessKeyProviderFunction,
  type WebPubSubAccessKeyProvider,
} from './access-key.store.js';
import { WEB_PUBSUB_CLOCK } from '../web-pubsub.constants.js';
import { EntraTokenVerifier } from './entra-token.verifier.js';
import { WebPubSubConfigService, accessKeysByHost } from '../config/web-pubsub-config.service.js';

type Verifiers = (SignatureVerifier | undefined)[];

/**
 * Decides whether an event really comes from a configured Web PubSub resource, before anything
 * else looks at it: its origin must be allowed (403), its managed-identity token valid when
 * required (401), and its signature must verify with a key of that origin (401).
 */
@Injectable()
export class WebPubSubAuthenticator implements OnModuleInit {
  readonly #keys: AccessKeyStore;
  readonly #token: EntraTokenVerifier | undefined;
  /** Nothing is configured: every event is accepted as is. */
  readonly #open: boolean;

  constructor(
    private readonly config: WebPubSubConfigService,
    private readonly moduleRef: ModuleRef,
    @Optional() @Inject(WEB_PUBSUB_CLOCK) now?: () => number,
  ) {
    const resolved = config.resolvedOptions();
    this.#keys = new AccessKeyStore(
      accessKeysByHost(config),
      resolved.accessKeyCacheTtl,
      now ?? Date.now,
    );
    this.#token = resolved.managedIdentity && new EntraTokenVerifier(resolved.managedIdentity);
    this.#open =
      !config.originValidation && !config.signatureValidation && !config.bearerTokenValidation;
  }

  async onModuleInit(): Promise<void> {
    const provider = this.config.resolvedOptions().accessKeyProvider;
    if (provider) this.#keys.useProvider(await this.providerFunction(provider));
  }

  /** @throws ProtocolError 403/401 (or 503 when the key provider fails); a promise when async work is needed. */
  authenticate(event: EventHeaders, headers: IncomingHeaders): void | Promise<void> {
    if (this.#open) return;
    let hosts: readonly string[] = [];
    if (this.config.originValidation) {
      hosts = this.config.abuseProtection.allowedHostsIn(event.origin);
      if (hosts.length === 0) {
        throw new ProtocolError(
          403,
          event.origin
            ? `WebHook-Request-Origin ${quote(event.origin)} is not an allowed service endpoint`
            : 'Missing WebHook-Request-Origin header',
        );
      }
    }
    if (this.#token) {
      return this.#token
        .verify(headerValue(headers, 'authorization'))
        .then(() => this.checkSignature(event, hosts, true));
    }
    return this.checkSignature(event, hosts, false);
  }

  private checkSignature(
    event: EventHeaders,
    hosts: readonly string[],
    tokenVerified: boolean,
  ): void | Promise<void> {
    if (!this.config.signatureValidation) return;
    if (hosts.length === 1) {
      // The usual case: one origin host; no arrays, no promise unless the key provider needs one.
      const verifier = this.#keys.verifierFor(hosts[0]);
      if (verifier instanceof Promise)
        return verifier.then(resolved => this.verify(event, [resolved], tokenVerified));
      if (verifier?.verify(event.connectionId, event.signature)) return;
      return this.verify(event, [verifier], tokenVerified);
    }
    const verifiers: Verifiers = [];
    let pending = false;
    for (const host of hosts) {
      const verifier = this.#keys.verifierFor(host);
      if (verifier instanceof Promise) pending = true;
      verifiers.push(verifier as SignatureVerifier | undefined);
    }
    if (pending) {
      return Promise.all(verifiers).then(resolved => this.verify(event, resolved, tokenVerified));
    }
    this.verify(event, verifiers, tokenVerified);
  }

  private verify(event: EventHeaders, verifiers: Verifiers, tokenVerified: boolean): void {
    let anyKey = false;
    for (const verifier of verifiers) {
      if (!verifier) continue;
      anyKey = true;
      if (verifier.verify(event.connectionId, event.signature)) return;
    }
    // An origin whose resource has no access key can only be trusted through its token.
    if (!anyKey && tokenVerified) return;
    if (!anyKey) {
      throw new ProtocolError(
        401,
        `No access key is configured for WebHook-Request-Origin ${quote(event.origin ?? '')}`,
      );
    }
    throw new ProtocolError(
      401,
      event.signature ? 'Invalid ce-signature' : 'Missing ce-signature header',
    );
  }

  private async providerFunction(
    provider: AccessKeyProviderFunction | Type<WebPubSubAccessKeyProvider>,
  ): Promise<AccessKeyProviderFunction> {
    if (typeof provider.prototype?.getAccessKeys !== 'function')
      return provider as AccessKeyProviderFunction;
    const type = provider as Type<WebPubSubAccessKeyProvider>;
    let instance: WebPubSubAccessKeyProvider;
    try {
      instance = this.moduleRef.get(type, { strict: false });
    } catch {
      instance = await this.moduleRef.create(type);
    }
    return host => instance.getAccessKeys(host);
  }
}
