import { quote } from './text.js';

/** The answer to an abuse-protection handshake (`OPTIONS`/`GET` with `WebHook-Request-Origin`). */
export type HandshakeAnswer =
  | { readonly allowed: true; readonly allowedOrigins: readonly string[] }
  | { readonly allowed: false; readonly status: 400; readonly message: string };

const ANY: HandshakeAnswer = { allowed: true, allowedOrigins: ['*'] };

/**
 * Decides the handshake answer for a set of allowed service hosts. With no host configured at
 * all, every origin is allowed (`WebHook-Allowed-Origin: *`). Otherwise each requested host
 * (the header may list several, separated by commas and/or spaces; ports are ignored) is
 * compared case-insensitively, and each allowed one is named in its own header line.
 */
export class AbuseProtection {
  readonly #hosts: ReadonlySet<string>;
  #lastOrigin: string | undefined;
  #lastHosts: readonly string[] = [];

  constructor(allowedHosts: Iterable<string>) {
    this.#hosts = new Set([...allowedHosts].map(host => host.toLowerCase()));
  }

  /** Whether any origin is accepted (no endpoint configured). */
  get allowsAny(): boolean {
    return this.#hosts.size === 0;
  }

  /**
   * The allowed hosts (lower case, no port) a `WebHook-Request-Origin` value names, each once;
   * empty when it names none. Used to tell which service sent an event.
   */
  allowedHostsIn(requestOrigin: string | undefined): readonly string[] {
    // The service sends the same value on every event: remember the last answer.
    if (requestOrigin === this.#lastOrigin && requestOrigin !== undefined) return this.#lastHosts;
    const hosts = this.computeAllowedHosts(requestOrigin);
    this.#lastOrigin = requestOrigin;
    this.#lastHosts = hosts;
    return hosts;
  }

  private computeAllowedHosts(requestOrigin: string | undefined): readonly string[] {
    const hosts: string[] = [];
    if (!requestOrigin) return hosts;
    // Fast path: the service sends a single host.
    const single = hostOf(requestOrigin);
    if (this.#hosts.has(single)) return [single];
    for (const origin of splitOrigins(requestOrigin)) {
      const host = hostOf(origin);
      if (this.#hosts.has(host) && !hosts.includes(host)) hosts.push(host);
    }
    return hosts;
  }

  answer(requestOrigin: string | undefined): HandshakeAnswer {
    const requested = splitOrigins(requestOrigin);
    if (requested.length === 0) {
      return { allowed: false, status: 400, message: 'Missing WebHook-Request-Origin header' };
    }
    if (this.#hosts.size === 0) return ANY;
    const allowed: string[] = [];
    const named = new Set<string>();
    for (const origin of requested) {
      const host = hostOf(origin);
      if (this.#hosts.has(host) && !named.has(host)) {
        named.add(host);
        allowed.push(origin);
      }
    }
    if (allowed.length === 0) {
      return {
        allowed: false,
        status: 400,
        message: `WebHook-Request-Origin ${quote(requestOrigin as string)} is not an allowed service endpoint`,
      };
    }
    return { allowed: true, allowedOrigins: allowed };
  }
}

/** Splits a `WebHook-Request-Origin` value into its host entries. */
export function splitOrigins(value: string | undefined): string[] {
  if (!value) return [];
  return value.split(/[\s,]+/).filter(entry => entry !== '');
}

/** `Host.Example.com:443` → `host.example.com`; tolerates a scheme. */
export function hostOf(origin: string): string {
  let host = origin.toLowerCase();
  const scheme = host.indexOf('://');
  if (scheme !== -1) host = host.slice(scheme + 3);
  const slash = host.indexOf('/');
  if (slash !== -1) host = host.slice(0, slash);
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    return close === -1 ? host : host.slice(0, close + 1);
  }
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}
