/**
 * The emulator's REST data plane: every operation `@azure/web-pubsub` 1.2 calls, under `/api/`,
 * with the service's exact statuses (202 sends, 204 deletes and closes, 200 PUTs and
 * add/remove-to-groups, 200/404 HEADs). It authenticates, validates and translates requests, then
 * acts only through `HubOperations`. Every call is recorded in the traffic log and logged in one line.
 *
 * Answers a client can act on: 400 (bad input, naming it), 401 (bad token, saying why), 404
 * (no such operation, or an unknown connection, user or group where the service says so), 405, 413
 * (body over 1 MB), 415 (content type), 501 (an operation the emulator does not implement), 500 (a
 * fault of the emulator itself; never a stack trace). Error answers take the service's forms, codes
 * and wording (`rest-errors.ts`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  audienceKey,
  signClientAccessToken,
  verifyAccessToken,
} from '../../protocol/client-access-token.js';
import { jsonDepthProblem } from '../../protocol/json-depth.js';
import { groupNameProblem, hubNameProblem } from '../../protocol/names.js';
import { quote } from '../../protocol/text.js';
import {
  OperationNotImplementedError,
  type CloseOptions,
  type ConnectionPredicate,
  type HubOperations,
  type OutboundMessage,
  type PermissionName,
  type SendOptions,
} from '../state/hub-operations.js';
import { bodyDeadline, DEFAULT_HTTP_LIMITS, type HttpLimits } from '../http-limits.js';
import { ODataFilterError, parseODataFilter } from './odata-filter.js';
import {
  badRequest,
  invalidFilter,
  invalidGroupName,
  invalidParameter,
  notFound,
  RestError,
  SERVICE_API_VERSIONS,
  ServiceErrorCode,
  writeRestError,
} from './rest-errors.js';
import { elapsedMs, type TrafficLog } from '../traffic-log.js';

export interface RestApiOptions {
  readonly hubs: HubOperations;
  /** The key REST tokens must be signed with, and client tokens from `:generateToken` are. */
  readonly accessKey: string;
  readonly traffic: TrafficLog;
  /** One line per call. */
  readonly log: (line: string) => void;
  /** Request body limit in bytes (default 1 MB, as the service). */
  readonly maxBodyBytes?: number;
  /** How slowly a body may arrive before the call is answered 408 (default: Kestrel's, see `http-limits.ts`). */
  readonly limits?: HttpLimits;
}

export interface RestApi {
  /** Answers any request whose path starts with `/api/`. Never rejects. */
  handleRestRequest(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export const REST_MAX_BODY_BYTES = 1024 * 1024;
/** The API version `@azure/web-pubsub` 1.2 sends; used in `nextLink` when a request had none. */
export const REST_API_VERSION = '2024-12-01';
export const MAX_MESSAGE_TTL_SECONDS = 300;
export const MAX_PAGE_SIZE = 200;
/** Page size of `listConnections` when the caller sets no `maxpagesize`. */
export const DEFAULT_PAGE_SIZE = 100;

/** How much of a body the traffic log keeps. */
const RECORDED_BODY_CHARS = 4096;

// ---------------------------------------------------------------------------------------------
// Routes

type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';

interface Route {
  readonly method: Method;
  /** Segments after `/api/hubs/{hub}`; `{name}` captures a path parameter. */
  readonly path: readonly string[];
  readonly operation: string;
  readonly run: (call: Call) => Promise<Answer> | Answer;
}

interface Answer {
  readonly status: number;
  readonly body?: unknown;
}

const ACCEPTED: Answer = { status: 202 };
const NO_CONTENT: Answer = { status: 204 };
const OK: Answer = { status: 200 };
/** 200, or the service's 404 for what is missing. */
const exists = (found: boolean, missing: () => RestError): Answer => {
  if (found) return OK;
  throw missing();
};

const ROUTES: readonly Route[] = [
  // Hub-wide
  {
    method: 'POST',
    path: [':send'],
    operation: 'sendToAll',
    run: async c => {
      const message = await c.message();
      c.reached(c.hubs.sendToAll(c.hub, message, c.sendOptions()));
      return ACCEPTED;
    },
  },
  {
    method: 'POST',
    path: [':closeConnections'],
    operation: 'closeAllConnections',
    run: c => {
      c.hubs.closeAllConnections(c.hub, c.closeOptions());
      return NO_CONTENT;
    },
  },
  {
    method: 'POST',
    path: [':addToGroups'],
    operation: 'addConnectionsToGroups',
    run: async c => {
      const { groups, filter } = await c.groupsAndFilter();
      c.hubs.addConnectionsToGroups(c.hub, groups, filter);
      return OK;
    },
  },
  {
    method: 'POST',
    path: [':removeFromGroups'],
    operation: 'removeConnectionsFromGroups',
    run: async c => {
      const { groups, filter } = await c.groupsAndFilter();
      c.hubs.removeConnectionsFromGroups(c.hub, groups, filter);
      return OK;
    },
  },
  {
    method: 'POST',
    path: [':generateToken'],
    operation: 'generateClientToken',
    run: async c => ({ status: 200, body: { token: await c.clientToken() } }),
  },
  // Users
  {
    method: 'POST',
    path: ['users', '{userId}', ':send'],
    operation: 'sendToUser',
    run: async c => {
      const message = await c.message();
      c.reached(c.hubs.sendToUser(c.hub, c.param('userId'), message, c.sendOptions()));
      return ACCEPTED;
    },
  },
  {
    method: 'HEAD',
    path: ['users', '{userId}'],
    operation: 'userExists',
    run: c =>
      exists(c.hubs.userExists(c.hub, c.param('userId')), () =>
        notFound('user', c.param('userId')),
      ),
  },
  {
    method: 'POST',
    path: ['users', '{userId}', ':closeConnections'],
    operation: 'closeUserConnections',
    run: c => {
      c.hubs.closeUserConnections(c.hub, c.param('userId'), c.closeOptions());
      return NO_CONTENT;
    },
  },
  {
    method: 'DELETE',
    path: ['users', '{userId}', 'groups'],
    operation: 'removeUserFromAllGroups',
    run: c => {
      c.hubs.removeUserFromAllGroups(c.hub, c.param('userId'));
      return NO_CONTENT;
    },
  },
  {
    method: 'PUT',
    path: ['users', '{userId}', 'groups', '{group}'],
    operation: 'addUserToGroup',
    run: c => {
      c.hubs.addUserToGroup(c.hub, c.param('group'), c.param('userId'));
      return OK;
    },
  },
  {
    method: 'DELETE',
    path: ['users', '{userId}', 'groups', '{group}'],
    operation: 'removeUserFromGroup',
    run: c => {
      c.hubs.removeUserFromGroup(c.hub, c.param('group'), c.param('userId'));
      return NO_CONTENT;
    },
  },
  // Connections
  {
    method: 'POST',
    path: ['connections', '{connectionId}', ':send'],
    operation: 'sendToConnection',
    run: async c => {
      const message = await c.message();
      c.messageTtlSeconds();
      c.reached(c.hubs.sendToConnection(c.hub, c.param('connectionId'), message));
      return ACCEPTED;
    },
  },
  {
    method: 'HEAD',
    path: ['connections', '{connectionId}'],
    operation: 'connectionExists',
    run: c => {
      const id = c.param('connectionId');
      return exists(c.hubs.connectionExists(c.hub, id), () => notFound('connection', id));
    },
  },
  {
    method: 'DELETE',
    path: ['connections', '{connectionId}'],
    operation: 'closeConnection',
    run: c => {
      c.hubs.closeConnection(c.hub, c.param('connectionId'), c.query.get('reason') ?? undefined);
      return NO_CONTENT;
    },
  },
  {
    method: 'DELETE',
    path: ['connections', '{connectionId}', 'groups'],
    operation: 'removeConnectionFromAllGroups',
    run: c => {
      c.hubs.removeConnectionFromAllGroups(c.hub, c.param('connectionId'));
      return NO_CONTENT;
    },
  },
  // Groups
  {
    method: 'POST',
    path: ['groups', '{group}', ':send'],
    operation: 'sendToGroup',
    run: async c => {
      const message = await c.message();
      c.reached(c.hubs.sendToGroup(c.hub, c.param('group'), message, c.sendOptions()));
      return ACCEPTED;
    },
  },
  {
    method: 'HEAD',
    path: ['groups', '{group}'],
    operation: 'groupExists',
    run: c =>
      exists(c.hubs.groupExists(c.hub, c.param('group')), () =>
        notFound('group', c.param('group')),
      ),
  },
  {
    method: 'POST',
    path: ['groups', '{group}', ':closeConnections'],
    operation: 'closeGroupConnections',
    run: c => {
      c.hubs.closeGroupConnections(c.hub, c.param('group'), c.closeOptions());
      return NO_CONTENT;
    },
  },
  {
    method: 'GET',
    path: ['groups', '{group}', 'connections'],
    operation: 'listConnectionsInGroup',
    run: c => ({ status: 200, body: c.connectionPage() }),
  },
  {
    method: 'PUT',
    path: ['groups', '{group}', 'connections', '{connectionId}'],
    operation: 'addConnectionToGroup',
    run: c => {
      const id = c.param('connectionId');
      if (c.hubs.addConnectionToGroup(c.hub, c.param('group'), id)) return OK;
      throw notFound('groupConnection', id);
    },
  },
  {
    method: 'DELETE',
    path: ['groups', '{group}', 'connections', '{connectionId}'],
    operation: 'removeConnectionFromGroup',
    run: c => {
      c.hubs.removeConnectionFromGroup(c.hub, c.param('group'), c.param('connectionId'));
      return NO_CONTENT;
    },
  },
  // Permissions
  {
    method: 'PUT',
    path: ['permissions', '{permission}', 'connections', '{connectionId}'],
    operation: 'grantPermission',
    run: c => {
      const id = c.param('connectionId');
      if (c.hubs.grantPermission(c.hub, id, c.permission(), c.targetName())) return OK;
      throw notFound('permissionConnection', id);
    },
  },
  {
    method: 'DELETE',
    path: ['permissions', '{permission}', 'connections', '{connectionId}'],
    operation: 'revokePermission',
    run: c => {
      c.hubs.revokePermission(c.hub, c.param('connectionId'), c.permission(), c.targetName());
      return NO_CONTENT;
    },
  },
  {
    method: 'HEAD',
    path: ['permissions', '{permission}', 'connections', '{connectionId}'],
    operation: 'checkPermission',
    run: c => {
      const id = c.param('connectionId');
      const [permission, target] = [c.permission(), c.targetName()];
      // The official emulator answers a permission the connection lacks as an unknown connection.
      return exists(c.hubs.hasPermission(c.hub, id, permission, target), () =>
        notFound('permissionConnection', id),
      );
    },
  },
];

/** Which `HubOperations` member each operation needs (for 501 when it is missing). */
const MEMBER: Record<string, keyof HubOperations | undefined> = {
  sendToAll: 'sendToAll',
  closeAllConnections: 'closeAllConnections',
  addConnectionsToGroups: 'addConnectionsToGroups',
  removeConnectionsFromGroups: 'removeConnectionsFromGroups',
  sendToUser: 'sendToUser',
  userExists: 'userExists',
  closeUserConnections: 'closeUserConnections',
  removeUserFromAllGroups: 'removeUserFromAllGroups',
  addUserToGroup: 'addUserToGroup',
  removeUserFromGroup: 'removeUserFromGroup',
  sendToConnection: 'sendToConnection',
  connectionExists: 'connectionExists',
  closeConnection: 'closeConnection',
  removeConnectionFromAllGroups: 'removeConnectionFromAllGroups',
  sendToGroup: 'sendToGroup',
  groupExists: 'groupExists',
  closeGroupConnections: 'closeGroupConnections',
  listConnectionsInGroup: 'listConnections',
  addConnectionToGroup: 'addConnectionToGroup',
  removeConnectionFromGroup: 'removeConnectionFromGroup',
  grantPermission: 'grantPermission',
  revokePermission: 'revokePermission',
  checkPermission: 'hasPermission',
};

/** Routes by segment count after `/api/hubs/{hub}`. */
const ROUTES_BY_LENGTH = new Map<number, Route[]>();
for (const route of ROUTES) {
  const list = ROUTES_BY_LENGTH.get(route.path.length) ?? [];
  list.push(route);
  ROUTES_BY_LENGTH.set(route.path.length, list);
}

function matchPath(
  template: readonly string[],
  segments: readonly string[],
): Map<string, string> | undefined {
  const params = new Map<string, string>();
  for (let i = 0; i < template.length; i++) {
    const part = template[i];
    if (part.startsWith('{')) params.set(part.slice(1, -1), segments[i]);
    else if (part.toLowerCase() !== segments[i].toLowerCase()) return undefined;
  }
  return params;
}

// ---------------------------------------------------------------------------------------------
// One call

/** A matched request: its parameters, read lazily and validated as they are read. */
class Call {
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
    if (text === null || text === undefined || text.trim() === '') return undefined;
    try {
      return parseODataFilter(text);
    } catch (error) {
      if (error instanceof ODataFilterError) throw invalidFilter(text, error, target);
      throw error;
    }
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
    if (type.name !== 'application/json') {
      throw new RestError(
        415,
        ServiceErrorCode.unsupportedMediaType,
        `Content-Type must be application/json, got ${type.name ? quote(type.name) : 'none'}`,
        'Content-Type',
      );
    }
    const body = parseJson(utf8(await this.body()));
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
    return { groups: groups as string[], filter: this.filter(filter, 'Filter') };
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

const PERMISSIONS: readonly PermissionName[] = ['joinLeaveGroup', 'sendToGroup'];

/** Keyed by the request's content type: a `Map`, so `constructor` or `__proto__` is just unsupported. */
const DATA_TYPES = new Map<string, OutboundMessage['dataType']>([
  ['text/plain', 'text'],
  ['application/json', 'json'],
  ['application/octet-stream', 'binary'],
]);

function mediaType(req: IncomingMessage): { name: string; charset?: string } {
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

function utf8(data: Buffer): string {
  try {
    return decoder.decode(data);
  } catch {
    throw badRequest('The body is not valid UTF-8');
  }
}

function parseJson(text: string): unknown {
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

function integer(name: string, value: string, min: number, max: number): number {
  const number = /^[+-]?\d{1,16}$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw invalidParameter(
      name,
      `${name} must be an integer from ${min} to ${max}, got ${quote(value)}`,
    );
  }
  return number;
}

/** 1 to 1024 characters, not all white space; the service's wording otherwise. */
function checkGroupName(group: string): void {
  if (groupNameProblem(group) !== undefined) throw invalidGroupName();
}

function decodeContinuationToken(token: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) {
    throw invalidParameter(
      'continuationToken',
      'continuationToken is not one this emulator issued',
    );
  }
  return Buffer.from(token, 'base64url').toString('utf8');
}

function readBody(req: IncomingMessage, limit: number, limits: HttpLimits): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // A body slower than the limits allow is answered 408 and its connection closed.
    const deadline = bodyDeadline(req, limits, message => {
      cleanup();
      reject(
        new RestError(408, 'RequestTimeout', message, 'Request', 'detail', { connection: 'close' }),
      );
    });
    const cleanup = () => {
      deadline.stop();
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      deadline.received(chunk.length);
      if (size > limit) {
        cleanup();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      if (req.complete) return;
      cleanup();
      reject(badRequest('The client went away before sending its whole body'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

const tooLarge = (limit: number) =>
  new RestError(
    413,
    ServiceErrorCode.payloadTooLarge,
    `The body is larger than ${limit} bytes`,
    'Request',
  );

// ---------------------------------------------------------------------------------------------
// The factory

/** The part of a request URL after `/api/`, split raw and decoded segment by segment. */
function splitPath(rawPath: string): string[] {
  return rawPath
    .slice('/api/'.length)
    .split('/')
    .map(segment => {
      try {
        return decodeURIComponent(segment);
      } catch {
        throw badRequest(`Path segment ${quote(segment)} is not valid percent-encoding`);
      }
    });
}

const safeDecode = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

export function createRestApi(options: RestApiOptions): RestApi {
  const { hubs, accessKey, traffic, log } = options;
  const maxBodyBytes = options.maxBodyBytes ?? REST_MAX_BODY_BYTES;
  const limits = options.limits ?? DEFAULT_HTTP_LIMITS;

  async function authenticate(req: IncomingMessage, rawPath: string): Promise<void> {
    const header = req.headers.authorization;
    if (!header) {
      throw unauthorized(
        'The Authorization header is missing: send "Bearer <JWT signed with the access key>"',
      );
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw unauthorized('The Authorization header is not "Bearer <token>"');
    // The SDK's audience is the whole request URL; the service compares host and path only,
    // raw or decoded once, whatever the scheme and query.
    const expected = audienceKey(`http://${req.headers.host ?? 'localhost'}${rawPath}`);
    const expectedDecoded = expected === undefined ? undefined : safeDecode(expected);
    const result = await verifyAccessToken(match[1], accessKey, {
      audience: aud => {
        const key = audienceKey(aud);
        return key !== undefined && (key === expected || safeDecode(key) === expectedDecoded);
      },
    });
    if (!result.ok) {
      const message =
        result.reason === 'wrong-audience'
          ? `${result.message}: expected the request URL, ${quote(`http://${req.headers.host ?? ''}${rawPath}`)} (host and path are compared)`
          : result.message;
      throw unauthorized(message);
    }
  }

  async function handleRestRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const startedAt = performance.now();
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const queryStart = rawUrl.indexOf('?');
    const rawPath = queryStart < 0 ? rawUrl : rawUrl.slice(0, queryStart);
    const query = new URLSearchParams(queryStart < 0 ? '' : rawUrl.slice(queryStart + 1));
    let operation = 'unknown';
    let hub = '';
    let call: Call | undefined;
    let answer: Answer;
    let error: RestError | undefined;
    try {
      const segments = rawPath.startsWith('/api/') ? splitPath(rawPath) : [];
      if (segments.length === 1 && segments[0].toLowerCase() === 'health') {
        operation = 'getServiceStatus';
        if (method !== 'HEAD' && method !== 'GET') throw notAllowed(method, ['HEAD', 'GET']);
        answer = OK;
      } else {
        if (segments.length < 3 || segments[0].toLowerCase() !== 'hubs')
          throw noSuchOperation(method, rawPath);
        hub = segments[1];
        const rest = segments.slice(2);
        const candidates = (ROUTES_BY_LENGTH.get(rest.length) ?? [])
          .map(route => ({ route, params: matchPath(route.path, rest) }))
          .filter(m => m.params !== undefined);
        if (candidates.length === 0) throw noSuchOperation(method, rawPath);
        const matched = candidates.find(m => m.route.method === method);
        if (!matched)
          throw notAllowed(
            method,
            candidates.map(m => m.route.method),
          );
        const { route } = matched;
        const params = matched.params as Map<string, string>;
        operation = route.operation;
        await authenticate(req, rawPath);
        const hubProblem = hubNameProblem(hub);
        if (hubProblem) throw invalidParameter('hub', hubProblem);
        for (const [name, value] of params) {
          if (name === 'group') checkGroupName(value);
          else if (value === '') throw badRequest(`${name} is empty`);
        }
        const member = MEMBER[operation];
        if (member !== undefined && typeof hubs[member] !== 'function') {
          throw new OperationNotImplementedError(operation);
        }
        call = new Call(req, hubs, hub, params, query, accessKey, maxBodyBytes, limits);
        answer = await route.run(call);
      }
    } catch (thrown) {
      error = toRestError(thrown);
      answer = { status: error.status };
    }
    let responseBody: string | undefined;
    let responseHeaders: Record<string, string> = {};
    try {
      ({ body: responseBody, headers: responseHeaders } = send(
        res,
        method,
        answer,
        error,
        req.complete,
      ));
    } catch {
      // The socket is gone; nothing more can be said to this client.
      res.destroy();
    }
    // A failing log sink or live-view listener must not become an unhandled rejection.
    const durationMs = elapsedMs(startedAt);
    const target = call ? [...call.params.values()].join(' · ') : '';
    const url = redactUrl(rawUrl);
    const line = `REST ${method} ${url} -> ${answer.status} ${operation} (${durationMs} ms)${error ? `: ${error.message}` : ''}`;
    try {
      log(line);
    } catch {
      // A log sink that throws cannot be told about it.
    }
    try {
      traffic.record({
        kind: 'rest',
        time: started,
        hub,
        action: operation,
        method,
        url,
        status: answer.status,
        durationMs,
        ...(target === '' ? {} : { target }),
        ...(call?.dataType === undefined ? {} : { dataType: call.dataType }),
        ...(call?.reach === undefined ? {} : { reach: call.reach }),
        detail: error?.message,
        request: {
          headers: redactHeaders(req.headers),
          body: call?.requestBody === undefined ? undefined : recordedBody(call.requestBody, req),
        },
        response: {
          headers: { ...stringHeaders(res.getHeaders()), ...responseHeaders },
          body:
            operation === 'generateClientToken' && !error ? '{"token":"<redacted>"}' : responseBody,
        },
      });
    } catch (thrown) {
      try {
        log(
          `REST traffic record failed: ${thrown instanceof Error ? thrown.message : String(thrown)}`,
        );
      } catch {
        // as above
      }
    }
  }

  return { handleRestRequest };
}

function unauthorized(message: string): RestError {
  return new RestError(401, ServiceErrorCode.unauthorized, message, 'Authorization', 'detail', {
    'www-authenticate': 'Bearer error="invalid_token"',
  });
}

function noSuchOperation(method: string, rawPath: string): RestError {
  return new RestError(
    404,
    ServiceErrorCode.notFound,
    `No REST operation at ${method} ${quote(rawPath)}`,
    'Request',
  );
}

function notAllowed(method: string, allowed: string[]): RestError {
  return new RestError(
    405,
    ServiceErrorCode.methodNotAllowed,
    `Method ${method} is not allowed here; allowed: ${allowed.join(', ')}`,
    'Request',
    'detail',
    { allow: allowed.join(', ') },
  );
}

function toRestError(thrown: unknown): RestError {
  if (thrown instanceof RestError) return thrown;
  if (thrown instanceof OperationNotImplementedError) {
    return new RestError(501, ServiceErrorCode.notImplemented, thrown.message, 'Request');
  }
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return new RestError(
    500,
    ServiceErrorCode.internalServerError,
    `The emulator failed: ${message}`,
    'Request',
  );
}

/** Writes the answer; returns the body text and the headers written, for the traffic record. */
function send(
  res: ServerResponse,
  method: string,
  answer: Answer,
  error: RestError | undefined,
  requestComplete: boolean,
): { body: string | undefined; headers: Record<string, string> } {
  if (res.headersSent) {
    res.end();
    return { body: undefined, headers: {} };
  }
  let headers: Record<string, string>;
  let text: string | undefined;
  if (error) {
    ({ headers, body: text } = writeRestError(error));
  } else {
    headers = { 'api-supported-versions': SERVICE_API_VERSIONS };
    if (answer.body !== undefined) {
      text = JSON.stringify(answer.body);
      headers['content-type'] = 'application/json; charset=utf-8';
    }
  }
  // Answered before its body arrived (refused, or too slow): the connection closes with the
  // answer rather than wait for the rest of a body that may never come.
  if (!requestComplete) headers.connection = 'close';
  const payload = text === undefined ? undefined : Buffer.from(text);
  // No Content-Length on 204 (RFC 9110 §8.6). A HEAD answer says the length, as the service's do,
  // and sends no body.
  if (answer.status !== 204) headers['content-length'] = String(payload?.length ?? 0);
  res.writeHead(answer.status, headers);
  // Nothing more is read from a connection that closes: its socket goes with the answer.
  const socket = res.socket;
  if (headers.connection === 'close') res.once('finish', () => socket?.destroy());
  if (method === 'HEAD') {
    res.end();
    return { body: undefined, headers };
  }
  res.end(payload);
  return { body: text, headers };
}

function redactUrl(rawUrl: string): string {
  return rawUrl.replace(/([?&]access_token=)[^&]*/gi, '$1<redacted>');
}

function redactHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const result = stringHeaders(headers);
  if (result.authorization !== undefined) {
    result.authorization = result.authorization.replace(/^(\S+\s+).*$/, '$1<redacted>');
    if (!result.authorization.endsWith('<redacted>')) result.authorization = '<redacted>';
  }
  return result;
}

function stringHeaders(
  headers: Record<string, number | string | string[] | undefined>,
): Record<string, string> {
  // Keyed by header names from the request: no prototype to shadow or set.
  const result: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) result[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return result;
}

function recordedBody(body: Buffer, req: IncomingMessage): string {
  const binary = mediaType(req).name === 'application/octet-stream';
  const text = binary
    ? `base64:${body.subarray(0, RECORDED_BODY_CHARS).toString('base64')}`
    : body.toString('utf8');
  return text.length > RECORDED_BODY_CHARS
    ? `${text.slice(0, RECORDED_BODY_CHARS)}… (${body.length} bytes)`
    : text;
}
