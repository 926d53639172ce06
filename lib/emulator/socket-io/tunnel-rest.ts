/**
 * The REST calls a Socket.IO server makes through its tunnel (`@azure/web-pubsub-socket.io` 1.2,
 * `api-version=2023-07-01`, no `Authorization`: the tunnel is the authentication), on the state
 * every endpoint shares. They reach Socket.IO connections of the tunnel's hub only, and bodies are
 * Engine.IO payloads. Answers are the data plane's: 202 sends, 200 group batches, 204 removals, and
 * errors in the service's form, with the JSON REST's codes and wording (`../rest/rest-errors.ts`):
 * 400 `Error.BadRequest` (a bad filter as problem+json, an invalid group name, a body that is not
 * one Socket.IO EVENT for `:invoke`), 403 `Error.Forbidden` (another hub), 404 `Error.NotFound` (no
 * such operation) or `Error.Connection.NotExisted` (adding an unknown connection to a group), 404
 * with `Warning.*.NotExisted` and no body for the existence checks, 415, 500.
 *
 * `POST /:invoke` (a broadcast with acks) answers 200 at once, then streams one
 * `{"Payload":"<Engine.IO payload of one client's ACK>"}` line per client that answers, and ends
 * when every targeted client has answered or gone, or after `invokeTimeoutMs`. The service numbers
 * the packet per client with ack ids from {@link INVOKE_ACK_ID_BASE} up, far above the ids the
 * server's own emits use (`nsp._ids` counts from 0), and keeps the clients' ACKs to those ids.
 */
import { quote } from '../../protocol/text.js';
import type { ConnectionPredicate } from '../state/hub-operations.js';
import type { Connection, HubRegistry } from '../state/hubs.js';
import {
  checkGroupName,
  filterOf as parseFilter,
  groupsAndFilterOf,
  notJson,
  parseJson,
  utf8,
} from '../rest/rest-call.js';
import {
  badRequest,
  emulatorFailure,
  noSuchOperation,
  notFound,
  RestError,
  ServiceErrorCode,
  writeRestError,
} from '../rest/rest-errors.js';
import { utf8Body, type TrafficLog } from '../traffic-log.js';
import { EioSession, SOCKET_IO_SUBPROTOCOL } from './eio-session.js';
import {
  decodeEioPayload,
  decodeSioPacket,
  encodeEioPayload,
  encodeSioPacket,
  SioPacketType,
} from './packets.js';
import type { TunnelHttpRequest, TunnelReply } from './tunnel-endpoint.js';
import { sameHub } from '../../protocol/names.js';

/** The first ack id the emulator gives a broadcast with acks. */
export const INVOKE_ACK_ID_BASE = 1_000_000_000;

export interface TunnelRestOptions {
  readonly hubs: HubRegistry;
  readonly traffic: TrafficLog;
  readonly log: (line: string) => void;
  /** How long a broadcast with acks waits for its clients. */
  readonly invokeTimeoutMs: number;
}

type Answer = { status: number } | 'streaming';

export function createTunnelRest(options: TunnelRestOptions) {
  const { hubs, traffic, log } = options;
  let nextAckId = INVOKE_ACK_ID_BASE;

  const isSocket = (connection: { subprotocol?: string }) =>
    connection.subprotocol === SOCKET_IO_SUBPROTOCOL;

  /** Socket.IO connections, narrowed by an OData filter when there is one. */
  function socketsOnly(predicate: ConnectionPredicate | undefined): ConnectionPredicate {
    return predicate ? connection => isSocket(connection) && predicate(connection) : isSocket;
  }

  const filterOf = (text: string | null) => socketsOnly(parseFilter(text, 'filter'));

  function socketOf(hub: string, connectionId: string): Connection | undefined {
    const connection = hubs.connection(hub, connectionId);
    return connection && isSocket(connection) ? connection : undefined;
  }

  function group(name: string): string {
    checkGroupName(name);
    return name;
  }

  function textBody(request: TunnelHttpRequest): { dataType: 'text'; data: Buffer } {
    const type = contentType(request);
    if (type !== 'text/plain') {
      throw new RestError(
        415,
        ServiceErrorCode.unsupportedMediaType,
        `A send through the Socket.IO tunnel carries an Engine.IO payload as text/plain, got ${type ? quote(type) : 'no Content-Type'}`,
        'Content-Type',
      );
    }
    return { dataType: 'text', data: request.body };
  }

  function groupsBody(request: TunnelHttpRequest): {
    groups: string[];
    filter: ConnectionPredicate;
  } {
    const type = contentType(request);
    if (type !== 'application/json') throw notJson(type);
    const { groups, filter } = groupsAndFilterOf(parseJson(utf8(request.body)));
    return { groups, filter: socketsOnly(filter) };
  }

  function invoke(
    hub: string,
    request: TunnelHttpRequest,
    query: URLSearchParams,
    reply: TunnelReply,
  ): void {
    const { data } = textBody(request);
    const filter = filterOf(query.get('filter'));
    let packet;
    try {
      const parts = decodeEioPayload(data.toString('utf8'));
      if (parts.length === 0 || parts.some(p => p.type !== 'message'))
        throw new Error('not message packets');
      packet = decodeSioPacket(parts);
    } catch (error) {
      throw badRequest(
        `The body is not one Socket.IO packet in an Engine.IO payload: ${(error as Error).message}`,
      );
    }
    if (packet.type !== SioPacketType.EVENT && packet.type !== SioPacketType.BINARY_EVENT) {
      throw badRequest('A broadcast with acks carries an EVENT packet');
    }
    const targets = [...hubs.hub(hub).connections.values()].filter(
      connection => filter(connection) && connection.sink instanceof EioSession,
    );
    let outstanding = targets.length;
    const waits: { session: EioSession; id: number }[] = [];
    const finish = () => {
      clearTimeout(timer);
      for (const { session, id } of waits) session.forgetAck(packet.nsp, id);
      reply.write(200, undefined, false);
    };
    const timer = setTimeout(() => {
      if (outstanding > 0) {
        log(
          `tunnel ${hub} :invoke ended after ${options.invokeTimeoutMs} ms with ${outstanding} client(s) silent`,
        );
        outstanding = 0;
        finish();
      }
    }, options.invokeTimeoutMs);
    timer.unref();
    reply.write(200, undefined, true, { 'content-type': 'application/x-ndjson' });
    if (outstanding === 0) {
      finish();
      return;
    }
    for (const connection of targets) {
      const session = connection.sink as EioSession;
      const id = nextAckId++;
      waits.push({ session, id });
      session.invoke(packet.nsp, id, encodeSioPacket({ ...packet, id }), parts => {
        if (outstanding === 0) return;
        if (parts && !reply.closed) {
          const line = `${JSON.stringify({ Payload: encodeEioPayload(parts) })}\n`;
          reply.write(200, Buffer.from(line, 'utf8'), true);
        }
        if (--outstanding === 0) finish();
      });
    }
  }

  function route(hub: string, request: TunnelHttpRequest, reply: TunnelReply): Answer {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      throw badRequest(`The tunnel request's Url ${quote(request.url)} is not an absolute URL`);
    }
    const segments = url.pathname.split('/').slice(1).map(decodeSegment);
    if (segments.length < 4 || segments[0] !== 'api' || segments[1].toLowerCase() !== 'hubs') {
      throw noSuchOperation(request.method, url.pathname);
    }
    if (!sameHub(segments[2], hub)) {
      throw new RestError(
        403,
        ServiceErrorCode.forbidden,
        `This Socket.IO tunnel serves hub ${quote(hub)}, not ${quote(segments[2])}`,
        'Request',
      );
    }
    const rest = segments.slice(3);
    const op = `${request.method} ${rest.map((s, i) => (i % 2 === 1 && rest.length > 1 && s[0] !== ':' ? '{}' : s)).join('/')}`;
    const query = url.searchParams;
    switch (op) {
      case 'POST :send':
        hubs.sendToAll(hub, textBody(request), { filter: filterOf(query.get('filter')) });
        return { status: 202 };
      case 'POST :invoke':
        invoke(hub, request, query, reply);
        return 'streaming';
      case 'POST :addToGroups': {
        const { groups, filter } = groupsBody(request);
        hubs.addConnectionsToGroups(hub, groups, filter);
        return { status: 200 };
      }
      case 'POST :removeFromGroups': {
        const { groups, filter } = groupsBody(request);
        hubs.removeConnectionsFromGroups(hub, groups, filter);
        return { status: 200 };
      }
      case 'POST :closeConnections':
        for (const connection of Array.from(hubs.hub(hub).connections.values())) {
          if (isSocket(connection)) connection.sink.close(query.get('reason') ?? undefined);
        }
        return { status: 204 };
      case 'POST groups/{}/:send':
        hubs.sendToGroup(hub, group(rest[1]), textBody(request), {
          filter: filterOf(query.get('filter')),
        });
        return { status: 202 };
      case 'POST connections/{}/:send': {
        const message = textBody(request);
        const connection = socketOf(hub, rest[1]);
        if (connection) hubs.sendToConnection(hub, connection.connectionId, message);
        return { status: 202 };
      }
      case 'HEAD connections/{}':
        if (!socketOf(hub, rest[1])) throw notFound('connection', rest[1]);
        return { status: 200 };
      case 'DELETE connections/{}':
        socketOf(hub, rest[1])?.sink.close(query.get('reason') ?? undefined);
        return { status: 204 };
      case 'HEAD groups/{}':
        if (!hubs.hub(hub).membersOf(group(rest[1])).some(isSocket)) {
          throw notFound('group', rest[1]);
        }
        return { status: 200 };
      case 'PUT groups/{}/connections/{}': {
        const connection = socketOf(hub, rest[3]);
        if (!connection) throw notFound('groupConnection', rest[3]);
        hubs.join(connection, group(rest[1]));
        return { status: 200 };
      }
      case 'DELETE groups/{}/connections/{}': {
        const connection = socketOf(hub, rest[3]);
        if (connection) hubs.leave(connection, group(rest[1]));
        return { status: 204 };
      }
      default:
        throw noSuchOperation(request.method, url.pathname);
    }
  }

  /** Answers one REST call of the app. Never throws. */
  return function handleAppRequest(
    hub: string,
    request: TunnelHttpRequest,
    reply: TunnelReply,
  ): void {
    const started = Date.now();
    let answer: Answer;
    let failure: RestError | undefined;
    let errorBody: string | undefined;
    try {
      answer = route(hub, request, reply);
    } catch (thrown) {
      failure = thrown instanceof RestError ? thrown : emulatorFailure(thrown);
      answer = { status: failure.status };
      const written = writeRestError(failure);
      // As over HTTP: a HEAD answer has the error's headers and no body.
      if (request.method !== 'HEAD') errorBody = written.body;
      reply.write(
        failure.status,
        errorBody === undefined ? undefined : Buffer.from(errorBody, 'utf8'),
        false,
        written.headers,
      );
    }
    if (!failure && answer !== 'streaming') reply.write(answer.status, undefined, false);
    const status = answer === 'streaming' ? 200 : answer.status;
    const path = safePath(request.url);
    try {
      log(
        `tunnel REST ${request.method} ${path} -> ${status}${failure ? `: ${failure.message}` : ''}`,
      );
      traffic.record({
        kind: 'rest',
        time: started,
        hub,
        action: `socket.io ${request.method} ${path.replace(/^\/api\/hubs\/[^/]+/, '').split('?')[0]}`,
        method: request.method,
        url: `tunnel:${path}`,
        status,
        durationMs: Date.now() - started,
        detail: failure?.message,
        request: {
          headers: Object.fromEntries(
            Object.entries(request.headers).map(([n, v]) => [n, v.join(', ')]),
          ),
          body: request.body.length > 0 ? utf8Body(request.body) : undefined,
        },
        response: {
          headers: {},
          body: errorBody,
        },
      });
    } catch {
      // A failing log sink or live-view listener cannot be told about it.
    }
  };
}

function contentType(request: TunnelHttpRequest): string {
  for (const [name, values] of Object.entries(request.headers)) {
    if (name.toLowerCase() === 'content-type')
      return (values[0] ?? '').split(';')[0].trim().toLowerCase();
  }
  return '';
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`Path segment ${quote(segment)} is not valid percent-encoding`);
  }
}

function safePath(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search}`;
  } catch {
    return url.slice(0, 200);
  }
}
