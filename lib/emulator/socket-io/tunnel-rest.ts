/**
 * The REST calls a Socket.IO server makes through its tunnel (`@azure/web-pubsub-socket.io` 1.2,
 * `api-version=2023-07-01`, no `Authorization`: the tunnel is the authentication), on the state
 * every endpoint shares. They reach Socket.IO connections of the tunnel's hub only, and bodies are
 * Engine.IO payloads. Answers are the data plane's: 202 sends, 200 group batches, 204 removals, and
 * `{"code","message"}` errors (400 bad input, 403 another hub, 404 unknown operation, 415).
 *
 * `POST /:invoke` (a broadcast with acks) answers 200 at once, then streams one
 * `{"Payload":"<Engine.IO payload of one client's ACK>"}` line per client that answers, and ends
 * when every targeted client has answered or gone, or after `invokeTimeoutMs`. The service numbers
 * the packet per client with ack ids from {@link INVOKE_ACK_ID_BASE} up, far above the ids the
 * server's own emits use (`nsp._ids` counts from 0), and keeps the clients' ACKs to those ids.
 */
import { groupNameProblem } from '../../protocol/names.js';
import type { ConnectionPredicate } from '../state/hub-operations.js';
import type { Connection, HubRegistry } from '../state/hubs.js';
import { ODataFilterError, parseODataFilter } from '../rest/odata-filter.js';
import { utf8Body, type TrafficLog } from '../traffic-log.js';
import { EioSession, SOCKET_IO_SUBPROTOCOL } from './eio-session.js';
import {
  decodeEioPayload,
  decodeSioPacket,
  encodeEioPayload,
  encodeSioPacket,
  SioPacketType,
} from './packets.js';
import { jsonBody, type TunnelHttpRequest, type TunnelReply } from './tunnel-endpoint.js';

/** The first ack id the emulator gives a broadcast with acks. */
export const INVOKE_ACK_ID_BASE = 1_000_000_000;

export interface TunnelRestOptions {
  readonly hubs: HubRegistry;
  readonly traffic: TrafficLog;
  readonly log: (line: string) => void;
  /** How long a broadcast with acks waits for its clients. */
  readonly invokeTimeoutMs: number;
}

class CallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const badRequest = (message: string) => new CallError(400, 'BadRequest', message);

type Answer = { status: number; body?: Buffer; contentType?: string } | 'streaming';

export function createTunnelRest(options: TunnelRestOptions) {
  const { hubs, traffic, log } = options;
  let nextAckId = INVOKE_ACK_ID_BASE;

  const isSocket = (connection: { subprotocol?: string }) =>
    connection.subprotocol === SOCKET_IO_SUBPROTOCOL;

  function filterOf(text: string | null | undefined): ConnectionPredicate {
    if (text === null || text === undefined || text.trim() === '') return isSocket;
    try {
      const predicate = parseODataFilter(text);
      return connection => isSocket(connection) && predicate(connection);
    } catch (error) {
      if (error instanceof ODataFilterError) throw badRequest(error.message);
      throw error;
    }
  }

  function socketOf(hub: string, connectionId: string): Connection | undefined {
    const connection = hubs.connection(hub, connectionId);
    return connection && isSocket(connection) ? connection : undefined;
  }

  function group(name: string): string {
    const problem = groupNameProblem(name);
    if (problem)
      throw badRequest(`group ${JSON.stringify(name.slice(0, 100))} is not valid: ${problem}`);
    return name;
  }

  function textBody(request: TunnelHttpRequest): { dataType: 'text'; data: Buffer } {
    const type = contentType(request);
    if (type !== 'text/plain') {
      throw new CallError(
        415,
        'UnsupportedMediaType',
        `a send through the tunnel carries an Engine.IO payload as text/plain, got ${type || 'no Content-Type'}`,
      );
    }
    return { dataType: 'text', data: request.body };
  }

  function groupsBody(request: TunnelHttpRequest): {
    groups: string[];
    filter: ConnectionPredicate;
  } {
    let body: unknown;
    try {
      body = JSON.parse(request.body.toString('utf8'));
    } catch {
      throw badRequest('the body must be JSON {"groups": [...], "filter": "..."}');
    }
    const { groups, filter } = (body ?? {}) as { groups?: unknown; filter?: unknown };
    if (!Array.isArray(groups) || groups.some(g => typeof g !== 'string')) {
      throw badRequest('"groups" must be an array of group names');
    }
    if (filter !== undefined && filter !== null && typeof filter !== 'string') {
      throw badRequest('"filter" must be a string');
    }
    return {
      groups: (groups as string[]).map(group),
      filter: filterOf(filter as string | undefined),
    };
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
        `the body is not one Socket.IO packet in an Engine.IO payload: ${(error as Error).message}`,
      );
    }
    if (packet.type !== SioPacketType.EVENT && packet.type !== SioPacketType.BINARY_EVENT) {
      throw badRequest('a broadcast with acks carries an EVENT packet');
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
    reply.write(200, undefined, true, 'application/x-ndjson');
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
      throw badRequest('the tunnel request Url is not an absolute URL');
    }
    const segments = url.pathname.split('/').slice(1).map(decodeSegment);
    if (segments.length < 4 || segments[0] !== 'api' || segments[1].toLowerCase() !== 'hubs') {
      throw new CallError(
        404,
        'NotFound',
        `No REST operation at ${request.method} ${url.pathname}`,
      );
    }
    if (segments[2].toLowerCase() !== hub.toLowerCase()) {
      throw new CallError(
        403,
        'Forbidden',
        `this tunnel serves hub ${JSON.stringify(hub)}, not ${JSON.stringify(segments[2])}`,
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
        const connection = socketOf(hub, rest[1]);
        if (connection) hubs.sendToConnection(hub, connection.connectionId, textBody(request));
        return { status: 202 };
      }
      case 'HEAD connections/{}':
        return { status: socketOf(hub, rest[1]) ? 200 : 404 };
      case 'DELETE connections/{}':
        socketOf(hub, rest[1])?.sink.close(query.get('reason') ?? undefined);
        return { status: 204 };
      case 'HEAD groups/{}':
        return { status: hubs.hub(hub).membersOf(group(rest[1])).some(isSocket) ? 200 : 404 };
      case 'PUT groups/{}/connections/{}': {
        const connection = socketOf(hub, rest[3]);
        if (!connection) {
          throw new CallError(
            404,
            'NotFound',
            `Connection ${JSON.stringify(rest[3])} does not exist`,
          );
        }
        hubs.join(connection, group(rest[1]));
        return { status: 200 };
      }
      case 'DELETE groups/{}/connections/{}': {
        const connection = socketOf(hub, rest[3]);
        if (connection) hubs.leave(connection, group(rest[1]));
        return { status: 204 };
      }
      default:
        throw new CallError(
          404,
          'NotFound',
          `No REST operation at ${request.method} ${url.pathname} through the Socket.IO tunnel`,
        );
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
    let failure: CallError | undefined;
    try {
      answer = route(hub, request, reply);
    } catch (thrown) {
      failure =
        thrown instanceof CallError
          ? thrown
          : new CallError(
              500,
              'InternalServerError',
              `The emulator failed: ${thrown instanceof Error ? thrown.message : String(thrown)}`,
            );
      answer = {
        status: failure.status,
        body: jsonBody(failure.code, failure.message),
        contentType: 'application/json',
      };
    }
    if (answer !== 'streaming') reply.write(answer.status, answer.body, false, answer.contentType);
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
          body: answer !== 'streaming' && answer.body ? utf8Body(answer.body) : undefined,
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
    throw badRequest(
      `path segment ${JSON.stringify(segment.slice(0, 100))} is not valid percent-encoding`,
    );
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
