/**
 * One REST call's reading: the matched request's parameters, query and body, each validated as
 * it is read and refused with the service's error (400, 413, 415, 408), and the limits the
 * service puts on them.
 */
import type { IncomingMessage } from 'node:http';
import { BodyReadError, readBoundedBody } from '../../protocol/body.reader.js';
import { signClientAccessToken } from '../../protocol/client-access-token.js';
import { jsonDepthProblem } from '../../protocol/json-depth.js';
import { groupNameProblem } from '../../protocol/names.js';
import { quote } from '../../protocol/text.js';
import {
  type CloseOptions,
  type ConnectionPredicate,
  type HubOperations,
  type OutboundMessage,
  type PermissionName,
  type SendOptions,
} from '../state/hub-operations.js';
import { bodyDeadline, type HttpLimits } from '../http-limits.js';
import { ODataFilterError, parseODataFilter } from './odata-filter.js';
import {
  badRequest,
  invalidFilter,
  invalidGroupName,
  invalidParameter,
  RestError,
  ServiceErrorCode,
} from './rest-errors.js';

export const REST_MAX_BODY_BYTES = 1024 * 1024;
/** The API version `@azure/web-pubsub` 1.2 sends; used in `nextLink` when a request had none. */
export const REST_API_VERSION = '2024-12-01';
export const MAX_MESSAGE_TTL_SECONDS = 300;
export const MAX_PAGE_SIZE = 200;
/** Page size of `listConnections` when the caller sets no `maxpagesize`. */
export const DEFAULT_PAGE_SIZE = 100;

/** A matched request: its parameters, read lazily and validated as they are read. */
export class Call {
  /** Decoded body, kept for the traffic record. */
  requestBody: Buffer | undefined;
  /** For the traffic record: the message's data type and how many connections a send reached. */
  dataType: OutboundMessage['dataType'] | undefined;
  reach: number | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly hubs: HubOperations,
    readonly hub: string,
    readonly params: Map<string, string>,
    readonly query: URLSearchParams,
    readonly accessKey: string,
    readonly maxBodyBytes: number,
    readonly limits: HttpLimits,
  ) {}

  param(name: string): string {
    return this.params.get(name) as string;
  }

  /** Keeps a send's reach when the state counts it. */
  reached(reach: number | void): void {
    if (typeof reach === 'number') this.reach = reach;
  }

  async message(): Promise<OutboundMessage> {
    const type = mediaType(this.req);
    const dataType = DATA_TYPES.get(type.name);
    if (!dataType) {
      throw new RestError(
        415,
        ServiceErrorCode.unsupportedMediaType,
        type.name
          ? `Content-Type ${quote(type.name)} is not supported: use text/plain, application/json or application/octet-stream`
          : 'Content-Type is missing: use text/plain, application/json or application/octet-stream',
        'Content-Type',
      );
    }
    if (dataType !== 'binary' && type.charset && !/^utf-?8$/i.test(type.charset)) {
      throw new RestError(
        415,
        ServiceErrorCode.unsupportedMediaType,
        `charset ${quote(type.charset)} is not supported: send UTF-8`,
        'Content-Type',
      );
    }
    const data = await this.body();
    if (dataType !== 'binary') {
      const text = utf8(data);
      if (dataType === 'json') parseJson(text);
    }
    this.dataType = dataType;
    return { dataType, data };
  }

  async body(): Promise<Buffer> {
    this.requestBody = await readBody(this.req, this.maxBodyBytes, this.limits);
    return this.requestBody;
  }

  sendOptions(): SendOptions {
    const excluded = this.query.getAll('excluded');
    return {
      excluded: excluded.length > 0 ? excluded : undefined,
      filter: this.filter(this.query.get('filter'), 'filter'),
      messageTtlSeconds: this.messageTtlSeconds(),
    };
  }

  closeOptions(): CloseOptions {
    const excluded = this.query.getAll('excluded');
    return {
      excluded: excluded.length > 0 ? excluded : undefined,
      reason: this.query.get('reason') ?? undefined,
    };
  }

  /** `target`: `filter` for the query parameter, `Filter` for the body member (as the service names them). */
  filter(
    text: string | null | undefined,
    target: 'filter' | 'Filter',
  ): ConnectionPredicate | undefined {
    return filterOf(text, target);
  }

  messageTtlSeconds(): number | undefined {
    const value = this.query.get('messageTtlSeconds');
    if (value === null) return undefined;
    return integer('messageTtlSeconds', value, 0, MAX_MESSAGE_TTL_SECONDS);
  }

  permission(): PermissionName {
    const value = this.param('permission');
    const name = PERMISSIONS.find(p => p.toLowerCase() === value.toLowerCase());
    if (!name) {
      throw invalidParameter(
        'permission',
        `Permission ${quote(value)} is not one of ${PERMISSIONS.join(', ')}`,
      );
    }
    return name;
  }

  /** The group a permission is about: required, as on the service (a 400 without it). */
  targetName(): string {
    const value = this.query.get('targetName');
    if (value === null) throw invalidGroupName();
    checkGroupName(value);
    return value;
  }

  async groupsAndFilter(): Promise<{ groups: string[]; filter?: ConnectionPredicate }> {
    const type = mediaType(this.req);
    if (type.name !== 'application/json') throw notJson(type.name);
    return groupsAndFilterOf(parseJson(utf8(await this.body())));
  }

  async clientToken(): Promise<string> {
    const query = this.query;
    const clientType = query.get('clientType');
    let clientProtocol: 'default' | 'mqtt' | 'socketio' = 'default';
    if (clientType !== null) {
      if (/^mqtt$/i.test(clientType)) clientProtocol = 'mqtt';
      else if (/^socketio$/i.test(clientType)) clientProtocol = 'socketio';
      else if (!/^default$/i.test(clientType)) {
        throw invalidParameter(
          'clientType',
          `clientType ${quote(clientType)} is not one of Default, MQTT, SocketIO`,
        );
      }
    }
    const minutes = query.get('minutesToExpire');
    const groups = query.getAll('group');
    for (const group of groups) checkGroupName(group);
    const roles = query.getAll('role');
    const secure = (this.req.socket as { encrypted?: boolean }).encrypted === true;
    const host = this.req.headers.host ?? 'localhost';
    const { token } = await signClientAccessToken({
      endpoint: `${secure ? 'https' : 'http'}://${host}`,
      hub: this.hub,
      accessKey: this.accessKey,
      userId: query.get('userId') || undefined,
      roles: roles.length > 0 ? roles : undefined,
      groups: groups.length > 0 ? groups : undefined,
      expirationTimeInMinutes:
        minutes === null ? 60 : integer('minutesToExpire', minutes, 1, 2 ** 31 - 1),
      clientProtocol,
    });
    return token;
  }

  connectionPage(): { value: { connectionId: string; userId?: string }[]; nextLink?: string } {
    const group = this.param('group');
    const query = this.query;
    const pageSizeText = query.get('maxpagesize');
    const pageSize =
      pageSizeText === null
        ? DEFAULT_PAGE_SIZE
        : integer('maxpagesize', pageSizeText, 1, MAX_PAGE_SIZE);
    const topText = query.get('top');
    const top = topText === null ? undefined : integer('top', topText, 1, 2 ** 31 - 1);
    const token = query.get('continuationToken');
    const after = token === null ? undefined : decodeContinuationToken(token);

    const members: { connectionId: string; userId?: string }[] = [];
    for (const connection of this.hubs.listConnections(this.hub)) {
      if (!connection.groups.has(group)) continue;
      if (after !== undefined && !(connection.connectionId > after)) continue;
      members.push(
        connection.userId === undefined
          ? { connectionId: connection.connectionId }
          : { connectionId: connection.connectionId, userId: connection.userId },
      );
    }
    members.sort((a, b) =>
      a.connectionId < b.connectionId ? -1 : a.connectionId > b.connectionId ? 1 : 0,
    );
    const take = Math.min(pageSize, top ?? Infinity);
    const value = members.slice(0, take);
    const remaining = top === undefined ? undefined : top - value.length;
    if (members.length <= take || remaining === 0) return { value };
    const next = new URLSearchParams({
      'api-version': query.get('api-version') ?? REST_API_VERSION,
    });
    next.set('maxpagesize', String(pageSize));
    if (remaining !== undefined) next.set('top', String(remaining));
    next.set(
      'continuationToken',
      Buffer.from(value[value.length - 1].connectionId).toString('base64url'),
    );
    const nextLink = `/api/hubs/${encodeURIComponent(this.hub)}/groups/${encodeURIComponent(group)}/connections?${next}`;
    return { value, nextLink };
  }
}

export const PERMISSIONS: readonly PermissionName[] = ['joinLeaveGroup', 'sendToGroup'];

/** Keyed by the request's content type: a `Map`, so `constructor` or `__proto__` is just unsupported. */
export const DATA_TYPES = new Map<string, OutboundMessage['dataType']>([
  ['text/plain', 'text'],
  ['application/json', 'json'],
  ['application/octet-stream', 'binary'],
]);

export function mediaType(req: IncomingMessage): { name: string; charset?: string } {
  const header = req.headers['content-type'] ?? '';
  const [name, ...params] = header.split(';');
  let charset: string | undefined;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq > 0 && param.slice(0, eq).trim().toLowerCase() === 'charset') {
      charset = param
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
    }
  }
  return { name: name.trim().toLowerCase(), charset };
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(data: Buffer): string {
  try {
    return decoder.decode(data);
  } catch {
    throw badRequest('The body is not valid UTF-8');
  }
}

export function parseJson(text: string): unknown {
  if (text.trim() === '')
    throw badRequest('The body is empty: application/json needs a JSON value');
  // Measured before parsing: the body is written again to JSON clients.
  const tooDeep = jsonDepthProblem(text);
  if (tooDeep) throw badRequest(`The body is refused: ${tooDeep}`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`The body is not valid JSON: ${(error as Error).message}`);
  }
}

export function integer(name: string, value: string, min: number, max: number): number {
  const number = /^[+-]?\d{1,16}$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw invalidParameter(
      name,
      `${name} must be an integer from ${min} to ${max}, got ${quote(value)}`,
    );
  }
  return number;
}

/**
 * An OData filter as the service reads it: none (`undefined`) when empty, a 400 in the service's
 * words when it does not parse. `target`: `filter` for the query parameter, `Filter` for the body
 * member (as the service names them).
 */
export function filterOf(
  text: string | null | undefined,
  target: 'filter' | 'Filter',
): ConnectionPredicate | undefined {
  if (text === null || text === undefined || text.trim() === '') return undefined;
  try {
    return parseODataFilter(text);
  } catch (error) {
    if (error instanceof ODataFilterError) throw invalidFilter(text, error, target);
    throw error;
  }
}

/** 415 for a body that must be JSON; `typeName` is the request's media type, '' for none. */
export function notJson(typeName: string): RestError {
  return new RestError(
    415,
    ServiceErrorCode.unsupportedMediaType,
    `Content-Type must be application/json, got ${typeName ? quote(typeName) : 'none'}`,
    'Content-Type',
  );
}

/** The JSON body of `:addToGroups` / `:removeFromGroups`, checked: `{"groups": [...], "filter"?}`. */
export function groupsAndFilterOf(body: unknown): {
  groups: string[];
  filter?: ConnectionPredicate;
} {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('The body must be a JSON object {"groups": [...], "filter": "..."}');
  }
  const { groups, filter } = body as { groups?: unknown; filter?: unknown };
  if (!Array.isArray(groups) || groups.some(g => typeof g !== 'string')) {
    throw invalidParameter('Groups', '"groups" must be an array of group names');
  }
  for (const group of groups as string[]) checkGroupName(group);
  if (filter !== undefined && filter !== null && typeof filter !== 'string') {
    throw invalidParameter('Filter', '"filter" must be a string');
  }
  return { groups: groups as string[], filter: filterOf(filter, 'Filter') };
}

/** 1 to 1024 characters, not all white space; the service's wording otherwise. */
export function checkGroupName(group: string): void {
  if (groupNameProblem(group) !== undefined) throw invalidGroupName();
}

export function decodeContinuationToken(token: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) {
    throw invalidParameter(
      'continuationToken',
      'continuationToken is not one this emulator issued',
    );
  }
  return Buffer.from(token, 'base64url').toString('utf8');
}

/** The body, read with the one bounded reader; its refusals in the service's words. */
export async function readBody(
  req: IncomingMessage,
  limit: number,
  limits: HttpLimits,
): Promise<Buffer> {
  try {
    return await readBoundedBody(req, { limit, deadline: bodyDeadline(limits) });
  } catch (error) {
    if (!(error instanceof BodyReadError)) throw error;
    switch (error.problem) {
      case 'too-large':
        throw tooLarge(limit);
      case 'too-slow':
        // A body slower than the limits allow is answered 408 and its connection closed.
        throw new RestError(408, 'RequestTimeout', error.message, 'Request', 'detail', {
          connection: 'close',
        });
      case 'aborted':
        throw badRequest('The client went away before sending its whole body');
      default:
        throw badRequest(error.message);
    }
  }
}

export const tooLarge = (limit: number) =>
  new RestError(
    413,
    ServiceErrorCode.payloadTooLarge,
    `The body is larger than ${limit} bytes`,
    'Request',
  );
