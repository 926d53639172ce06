import {
  IsBoolean,
  IsInt,
  IsOptional,
  Min,
  Validate,
  ValidatorConstraint,
  validateSync,
  type ValidationArguments,
  type ValidationError,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { WebPubSubOptionsError } from '../errors/web-pubsub-options.error.js';
import { hubNameProblem } from '../protocol/names.js';
import type { WebPubSubModuleOptions } from '../interfaces/web-pubsub-module-options.interface.js';
import {
  endpointHost,
  parseConnectionString,
  type ServiceEndpoint,
} from '../protocol/connection-string.js';
import {
  DEFAULT_ACCESS_KEY_CACHE_TTL,
  DEFAULT_DEDUPLICATION_TTL,
  DEFAULT_HANDLER_TIMEOUT,
  DEFAULT_MAX_BODY_SIZE,
} from '../web-pubsub.constants.js';
import type { ManagedIdentityOptions } from '../interfaces/managed-identity.interface.js';
import type {
  DeduplicationOptions,
  RedisDeduplicationOptions,
  WebPubSubDeduplicationStore,
} from '../interfaces/deduplication.interface.js';

/** The options with defaults applied and every value parsed. */
export interface ResolvedWebPubSubOptions {
  /** Access keys of the connection strings by host (keyless hosts map to `[]`). */
  readonly keysByHost: ReadonlyMap<string, readonly string[]>;
  readonly accessKeyProvider?: WebPubSubModuleOptions['accessKeyProvider'];
  readonly accessKeyCacheTtl: number;
  readonly managedIdentity?: ManagedIdentityOptions;
  /** Absent: no de-duplication. The store is built where the de-duplicator is. */
  readonly deduplication?: {
    readonly store?: WebPubSubDeduplicationStore;
    readonly redis?: RedisDeduplicationOptions;
    readonly ttl: number;
  };
  /** Hub names as configured; `undefined` serves every hub. */
  readonly hubs?: readonly string[];
  readonly endpoints: readonly ServiceEndpoint[];
  /** Hosts the handshake allows: the endpoints' hosts and `allowedEndpoints`. Empty = any. */
  readonly allowedHosts: readonly string[];
  readonly accessKeys: readonly string[];
  readonly maxBodySize: number;
  readonly handlerTimeout: number;
  /** Spans and metrics through `@opentelemetry/api` when it is installed. */
  readonly telemetry: boolean;
}

/** Runs `check` on a string or on each string of a list, and reports the first problem. */
abstract class StringOrListConstraint implements ValidatorConstraintInterface {
  protected abstract check(value: string): void;
  protected readonly allowSingle: boolean = true;

  validate(value: unknown): boolean {
    return this.problem(value) === undefined;
  }

  defaultMessage(args: ValidationArguments): string {
    return `${args.property} ${this.problem(args.value) ?? 'is invalid'}`;
  }

  private problem(value: unknown): string | undefined {
    const list = Array.isArray(value) ? value : this.allowSingle ? [value] : undefined;
    if (!list) return 'must be an array of strings';
    if (list.length === 0) return 'must not be an empty list';
    for (let i = 0; i < list.length; i++) {
      const where = Array.isArray(value) ? `[${i}]` : '';
      if (typeof list[i] !== 'string') return `${where} must be a string`.trimStart();
      try {
        this.check(list[i]);
      } catch (error) {
        return `${where} ${(error as Error).message}`.trimStart();
      }
    }
    return undefined;
  }
}

@ValidatorConstraint({ name: 'hubName' })
class HubNameConstraint extends StringOrListConstraint {
  protected check(value: string): void {
    if (value === '') throw new Error('must not be empty');
    const problem = hubNameProblem(value);
    if (problem) throw new Error(problem);
  }
}

/**
 * Runs `check` and drops `noun` from the start of its error: the message starts with the option's
 * name already ("connectionString is empty", not "connectionString connection string is empty").
 */
function namingOnce(noun: string, check: () => unknown): void {
  try {
    check();
  } catch (error) {
    const message = (error as Error).message;
    throw new Error(message.startsWith(`${noun} `) ? message.slice(noun.length + 1) : message);
  }
}

@ValidatorConstraint({ name: 'connectionString' })
class ConnectionStringConstraint extends StringOrListConstraint {
  protected check(value: string): void {
    namingOnce('connection string', () => parseConnectionString(value));
  }
}

@ValidatorConstraint({ name: 'endpoint' })
class EndpointConstraint extends StringOrListConstraint {
  protected override readonly allowSingle = false;
  protected check(value: string): void {
    namingOnce('endpoint', () => endpointHost(value));
  }
}

@ValidatorConstraint({ name: 'serviceEndpoint' })
class ServiceEndpointConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return serviceEndpointProblem(value) === undefined;
  }
  defaultMessage(args: ValidationArguments): string {
    return `endpoint ${serviceEndpointProblem(args.value) ?? 'is invalid'}`;
  }
}

function serviceEndpointProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a URL string';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not a URL`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must use http or https';
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username)
    return `"${value}" must be a URL origin (scheme, host and port only)`;
  return undefined;
}

@ValidatorConstraint({ name: 'credential' })
class CredentialConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    const candidate = value as { getToken?: unknown; key?: unknown } | null;
    return (
      typeof candidate === 'object' &&
      candidate !== null &&
      (typeof candidate.getToken === 'function' || typeof candidate.key === 'string')
    );
  }
  defaultMessage(): string {
    return 'credential must be a TokenCredential (e.g. DefaultAzureCredential from @azure/identity) or an AzureKeyCredential';
  }
}

@ValidatorConstraint({ name: 'serviceClientOptions' })
class PlainObjectConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must be an object`;
  }
}

@ValidatorConstraint({ name: 'accessKeyProvider' })
class AccessKeyProviderConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'function';
  }
  defaultMessage(): string {
    return 'accessKeyProvider must be a function (host) => keys, or a class implementing getAccessKeys(host)';
  }
}

@ValidatorConstraint({ name: 'managedIdentity' })
class ManagedIdentityConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return managedIdentityProblem(value) === undefined;
  }
  defaultMessage(args: ValidationArguments): string {
    return `managedIdentity ${managedIdentityProblem(args.value) ?? 'is invalid'}`;
  }
}

const MANAGED_IDENTITY_KEYS = new Set([
  'jwks',
  'issuer',
  'audience',
  'clockTolerance',
  'jwksCacheMaxAge',
]);

function managedIdentityProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return 'must be an object';
  const options = value as Record<string, unknown>;
  const unknown = Object.keys(options).find(key => !MANAGED_IDENTITY_KEYS.has(key));
  if (unknown) return `has an unknown option "${unknown}"`;
  const { jwks, issuer, audience, clockTolerance, jwksCacheMaxAge } = options;
  if (typeof jwks === 'string') {
    let url: URL;
    try {
      url = new URL(jwks);
    } catch {
      return 'jwks must be a URL or a key set';
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      return 'jwks URL must use https (or http)';
  } else if (
    jwks === null ||
    typeof jwks !== 'object' ||
    !Array.isArray((jwks as { keys?: unknown }).keys)
  ) {
    return 'jwks must be a URL or a key set ({ keys: [...] })';
  }
  for (const [name, claim] of [
    ['issuer', issuer],
    ['audience', audience],
  ] as const) {
    const list = Array.isArray(claim) ? claim : [claim];
    if (list.length === 0 || list.some(item => typeof item !== 'string' || item === '')) {
      return `${name} must be a non-empty string or list of strings`;
    }
  }
  if (
    clockTolerance !== undefined &&
    (typeof clockTolerance !== 'number' || !(clockTolerance >= 0))
  ) {
    return 'clockTolerance must be a number of seconds >= 0';
  }
  if (
    jwksCacheMaxAge !== undefined &&
    (!Number.isInteger(jwksCacheMaxAge) || (jwksCacheMaxAge as number) < 0)
  ) {
    return 'jwksCacheMaxAge must be an integer number of milliseconds >= 0';
  }
  return undefined;
}

@ValidatorConstraint({ name: 'deduplication' })
class DeduplicationConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return deduplicationProblem(value) === undefined;
  }
  defaultMessage(args: ValidationArguments): string {
    return `deduplication ${deduplicationProblem(args.value) ?? 'is invalid'}`;
  }
}

function deduplicationProblem(value: unknown): string | undefined {
  if (typeof value === 'boolean') return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return 'must be true, false or { store?, redis?, ttl? }';
  const { store, redis, ttl, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown) return `has an unknown option "${unknown}"`;
  if (store !== undefined && redis !== undefined) return 'takes store or redis, not both';
  if (redis !== undefined) {
    const problem = redisProblem(redis);
    if (problem) return `redis ${problem}`;
  }
  if (store !== undefined) {
    const candidate = store as Partial<WebPubSubDeduplicationStore> | null;
    if (typeof candidate?.get !== 'function' || typeof candidate?.set !== 'function') {
      return 'store must have get(key) and set(key, response, ttlMs)';
    }
  }
  if (ttl !== undefined && (!Number.isInteger(ttl) || (ttl as number) < 1))
    return 'ttl must be a positive integer (ms)';
  return undefined;
}

function redisProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return 'must be { client } or { connection }';
  const { client, connection, prefix, commandTimeout, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown) return `has an unknown option "${unknown}"`;
  if ((client === undefined) === (connection === undefined))
    return 'needs either client (an ioredis client) or connection (ioredis options or a URL)';
  if (client !== undefined) {
    const candidate = client as { get?: unknown; set?: unknown; eval?: unknown } | null;
    if (
      typeof candidate?.get !== 'function' ||
      typeof candidate.set !== 'function' ||
      typeof candidate.eval !== 'function'
    )
      return 'client must be an ioredis client (get, set, eval)';
  }
  if (
    connection !== undefined &&
    typeof connection !== 'string' &&
    (connection === null || typeof connection !== 'object' || Array.isArray(connection))
  )
    return 'connection must be ioredis options or a redis:// URL';
  if (prefix !== undefined && (typeof prefix !== 'string' || prefix === ''))
    return 'prefix must be a non-empty string';
  if (
    commandTimeout !== undefined &&
    (!Number.isInteger(commandTimeout) || (commandTimeout as number) < 1)
  )
    return 'commandTimeout must be a positive integer (ms)';
  return undefined;
}

/** class-validator rules for {@link WebPubSubModuleOptions}; unknown keys are refused. */
class WebPubSubOptionsSchema implements WebPubSubModuleOptions {
  @IsOptional()
  @Validate(HubNameConstraint)
  hub?: string | string[];

  @IsOptional()
  @Validate(ConnectionStringConstraint)
  connectionString?: string | string[];

  @IsOptional()
  @Validate(EndpointConstraint)
  allowedEndpoints?: string[];

  @IsOptional()
  @IsInt()
  @Min(1)
  maxBodySize?: number;

  @IsOptional()
  @IsInt()
  @Min(0)
  handlerTimeout?: number;

  @IsOptional()
  @Validate(AccessKeyProviderConstraint)
  accessKeyProvider?: WebPubSubModuleOptions['accessKeyProvider'];

  @IsOptional()
  @IsInt()
  @Min(0)
  accessKeyCacheTtl?: number;

  @IsOptional()
  @Validate(ManagedIdentityConstraint)
  managedIdentity?: ManagedIdentityOptions;

  @IsOptional()
  @IsBoolean()
  telemetry?: boolean;

  @IsOptional()
  @Validate(DeduplicationConstraint)
  deduplication?: boolean | DeduplicationOptions;

  @IsOptional()
  @Validate(ServiceEndpointConstraint)
  endpoint?: string;

  @IsOptional()
  @Validate(CredentialConstraint)
  credential?: WebPubSubModuleOptions['credential'];

  @IsOptional()
  @Validate(PlainObjectConstraint)
  serviceClientOptions?: WebPubSubModuleOptions['serviceClientOptions'];
}

/**
 * Validates the options and applies defaults.
 * @throws WebPubSubOptionsError naming every field at fault.
 */
export function resolveWebPubSubOptions(
  options: WebPubSubModuleOptions | undefined | null,
): ResolvedWebPubSubOptions {
  if (
    options !== undefined &&
    options !== null &&
    (typeof options !== 'object' || Array.isArray(options))
  ) {
    throw new WebPubSubOptionsError(['options must be an object']);
  }
  const given = options ?? {};
  const schema = Object.assign(new WebPubSubOptionsSchema(), given);
  const errors = validateSync(schema, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
  });
  if (errors.length > 0) {
    throw new WebPubSubOptionsError(errors.map(describe));
  }
  // null counts as absent, as class-validator's @IsOptional() treats it.
  const endpoints = list(given.connectionString ?? undefined).map(parseConnectionString);
  const allowedHosts = new Set<string>(endpoints.map(endpoint => endpoint.host));
  for (const endpoint of given.allowedEndpoints ?? []) allowedHosts.add(endpointHost(endpoint));
  // The service-client endpoint is a resource that calls this app too.
  if (typeof given.endpoint === 'string') allowedHosts.add(endpointHost(given.endpoint));
  const accessKeys = endpoints.flatMap(endpoint =>
    endpoint.accessKey ? [endpoint.accessKey] : [],
  );
  const keysByHost = new Map<string, string[]>();
  for (const endpoint of endpoints) {
    const keys = keysByHost.get(endpoint.host) ?? [];
    if (endpoint.accessKey && !keys.includes(endpoint.accessKey)) keys.push(endpoint.accessKey);
    keysByHost.set(endpoint.host, keys);
  }
  if (given.accessKeyProvider && allowedHosts.size === 0) {
    throw new WebPubSubOptionsError([
      'accessKeyProvider needs the service hosts it supplies keys for: give connectionString (AccessKey optional) or allowedEndpoints',
    ]);
  }
  return {
    keysByHost,
    accessKeyProvider: given.accessKeyProvider,
    accessKeyCacheTtl: given.accessKeyCacheTtl ?? DEFAULT_ACCESS_KEY_CACHE_TTL,
    managedIdentity: given.managedIdentity,
    deduplication: resolveDeduplication(given.deduplication),
    hubs: given.hub === undefined || given.hub === null ? undefined : list(given.hub),
    endpoints,
    allowedHosts: [...allowedHosts],
    accessKeys,
    maxBodySize: given.maxBodySize ?? DEFAULT_MAX_BODY_SIZE,
    handlerTimeout: given.handlerTimeout ?? DEFAULT_HANDLER_TIMEOUT,
    telemetry: given.telemetry ?? true,
  };
}

function describe(error: ValidationError): string {
  if (!error.constraints) return `${error.property} is invalid`;
  if (error.constraints.whitelistValidation) return `unknown option "${error.property}"`;
  return Object.values(error.constraints).join(', ');
}

function list<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function resolveDeduplication(
  option: boolean | DeduplicationOptions | undefined,
): ResolvedWebPubSubOptions['deduplication'] {
  if (!option) return undefined;
  const given = option === true ? {} : option;
  return { store: given.store, redis: given.redis, ttl: given.ttl ?? DEFAULT_DEDUPLICATION_TTL };
}
