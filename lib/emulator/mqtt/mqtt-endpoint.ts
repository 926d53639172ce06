/**
 * The MQTT client endpoint: `/clients/mqtt/hubs/{hub}` over WebSocket (subprotocol `mqtt`),
 * MQTT 3.1.1 and 5.0. The access token (MQTT audience) is checked before the upgrade (401 with a
 * plain-text reason); after it, the CONNECT packet is checked, the upstream `connect` event decides,
 * and its answer becomes the CONNACK. Sessions are kept by hub and client id (= connection id).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { JWTPayload } from 'jose';
import type { IConnackPacket, IConnectPacket } from 'mqtt-packet';
import { WebSocketServer } from 'ws';
import {
  mqttConnectCodeFromStatus,
  MqttProtocolVersion,
  MqttV500ConnectReasonCode as Code,
} from '../../protocol/mqtt.js';
import {
  checkClientToken,
  connectBody,
  guardUpgrade,
  MAX_FRAME_BYTES,
  Refusal,
  sessionKey,
  stringList,
  type ClientRequest,
} from '../clients/upgrade.js';
import { hubNameProblem } from '../../protocol/names.js';
import type { SessionLimits } from '../clients/session-limits.js';
import { Connection, type HubRegistry } from '../state/hubs.js';
import { checkConnect, refusalCode, willOf, type ConnectProblem } from './mqtt-connect-rules.js';
import { clip } from './mqtt-ack-codes.js';
import { MqttLink } from './mqtt-link.js';
import { userPropertyList, userPropertyObject } from './mqtt-properties.js';
import { MqttSession } from './mqtt-session.js';
import type { TrafficLog } from '../traffic-log.js';
import type { EventSubject, Upstream } from '../upstream/upstream.js';

export const MQTT_SUBPROTOCOL = 'mqtt';
const MQTT_V31_SUBPROTOCOL = 'mqttv3.1';

export interface MqttEndpointOptions {
  readonly accessKey: string;
  readonly hubs: HubRegistry;
  readonly upstream: Upstream;
  readonly traffic: TrafficLog;
  readonly log: (line: string) => void;
  /** `recoveryWindowMs` caps how long a session outlives its network connection. */
  readonly limits: SessionLimits;
  /** How long a new connection may take to send CONNECT. Default 10 s. */
  readonly connectTimeoutMs?: number;
}

export class MqttEndpoint {
  readonly #options: MqttEndpointOptions;
  readonly #wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    clientTracking: false,
    // MQTT.js offers `mqttv3.1` for MQTT 3.1, which then hears CONNACK 1 (unsupported version).
    handleProtocols: offered =>
      offered.has(MQTT_SUBPROTOCOL) ? MQTT_SUBPROTOCOL : MQTT_V31_SUBPROTOCOL,
  });
  /** Sessions by hub (lower case) and client id. */
  readonly #sessions = new Map<string, MqttSession>();
  /** Links that have not become a session's yet. */
  readonly #unbound = new Set<MqttLink>();
  readonly #pendingSockets = new Set<Duplex>();
  #closed = false;

  constructor(options: MqttEndpointOptions) {
    this.#options = options;
  }

  /** Whether `pathname` belongs to this endpoint. */
  static handles(pathname: string): boolean {
    return pathname === '/clients/mqtt' || pathname.startsWith('/clients/mqtt/');
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    guardUpgrade(
      socket,
      { closed: this.#closed, pending: this.#pendingSockets },
      () => this.#accept(req, socket, head),
      this.#options.log,
      'mqtt',
    );
  }

  async #accept(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const request = parseRequest(req);
    const settings = this.#options.upstream.settings(request.hub);
    const checked = await checkClientToken(
      req,
      request.query,
      `/clients/mqtt/hubs/${request.hub}`,
      this.#options.accessKey,
      settings?.anonymousConnectPolicy === 'allow',
    );
    if (!checked.ok) this.#rejected(request.hub, 401, checked.message);
    const claims = checked.claims;
    if (
      !request.offered.includes(MQTT_SUBPROTOCOL) &&
      !request.offered.includes(MQTT_V31_SUBPROTOCOL)
    ) {
      this.#rejected(
        request.hub,
        400,
        `MQTT clients must offer the WebSocket subprotocol "mqtt" (offered: ${request.offered.join(', ') || 'none'})`,
      );
    }
    if (socket.destroyed || this.#closed) return;
    this.#pendingSockets.delete(socket);
    this.#wss.handleUpgrade(req, socket, head, ws => {
      const link = new MqttLink(ws, this.#options.limits.maxBufferedBytes, MAX_FRAME_BYTES);
      this.#unbound.add(link);
      const timer = setTimeout(
        () => link.close('no CONNECT packet in time'),
        this.#options.connectTimeoutMs ?? 10_000,
      );
      timer.unref();
      let connecting = false;
      link.listen({
        packet: packet => {
          if (connecting) return;
          connecting = true;
          clearTimeout(timer);
          if (packet.cmd !== 'connect') {
            link.close(`the first packet must be CONNECT, not ${packet.cmd.toUpperCase()}`);
            return;
          }
          // Packets right behind the CONNECT (in the same frame, say) wait for the session.
          link.hold();
          this.#connect(link, packet, req, request, claims).catch((error: unknown) => {
            this.#options.log(`mqtt connect failed: ${(error as Error).message}`);
            link.close('internal error');
          });
        },
        closed: () => {
          clearTimeout(timer);
          this.#unbound.delete(link);
        },
      });
    });
  }

  async #connect(
    link: MqttLink,
    packet: IConnectPacket,
    req: IncomingMessage,
    request: ClientRequest,
    claims: JWTPayload,
  ): Promise<void> {
    let hub = request.hub;
    const version = packet.protocolVersion ?? 4;
    if (version !== MqttProtocolVersion.v311 && version !== MqttProtocolVersion.v500) {
      // MQTT 3.1 (and anything else): the one refusal every version reads.
      link.protocolVersion = 4;
      this.#refuseConnect(link, hub, packet.clientId, MqttProtocolVersion.v311, {
        code: Code.UnsupportedProtocolVersion,
        reason: `MQTT protocol level ${version} is not supported (only 3.1.1 and 5.0)`,
      });
      return;
    }
    let clientId = packet.clientId;
    const assigned = clientId === '';
    const problem = checkConnect(packet, version);
    if (problem) {
      this.#refuseConnect(link, hub, clientId, version, problem);
      return;
    }
    if (assigned) clientId = randomBytes(16).toString('hex');
    const key = sessionKey(hub, clientId);
    const existing = this.#sessions.get(key);
    const subject: EventSubject = {
      hub,
      connectionId: clientId,
      userId: undefined,
      subprotocol: MQTT_SUBPROTOCOL,
      state: existing?.subject.state,
      nextEventId: existing ? existing.subject.nextEventId++ : 0,
      physicalConnectionId: link.physicalConnectionId,
    };
    const v5UserProperties =
      version === 5 ? userPropertyList(packet.properties?.userProperties) : undefined;
    const outcome = await this.#options.upstream.connect(subject, {
      ...connectBody(req, request, claims),
      mqtt: {
        protocolVersion: version,
        username: packet.username,
        passwordBytes: packet.password,
        userProperties:
          v5UserProperties && v5UserProperties.length > 0 ? v5UserProperties : undefined,
      },
    });
    if (!link.open || this.#closed) return;
    if (!outcome.accepted) {
      const mqtt = outcome.mqtt;
      this.#refuseConnect(
        link,
        hub,
        clientId,
        version,
        mqtt
          ? {
              code: mqtt.code,
              reason: mqtt.reason ?? `the connect handler refused with code ${mqtt.code}`,
              userProperties: mqtt.userProperties,
            }
          : {
              code: mqttConnectCodeFromStatus(outcome.status, version),
              reason: outcome.reason,
            },
        outcome.status,
      );
      return;
    }
    // The hub as first configured or seen: one spelling in the state, the log and the live view.
    hub = this.#options.hubs.hub(request.hub).name;
    const response = outcome.response;
    const cleanStart = packet.clean !== false;
    const expiryMs = Math.min(
      version === 5
        ? (packet.properties?.sessionExpiryInterval ?? 0) * 1000
        : cleanStart
          ? 0
          : Number.POSITIVE_INFINITY,
      this.#options.limits.recoveryWindowMs,
    );
    const connackProperties: IConnackPacket['properties'] = {
      retainAvailable: false,
      wildcardSubscriptionAvailable: false,
      sharedSubscriptionAvailable: false,
      ...(assigned ? { assignedClientIdentifier: clientId } : {}),
      ...(version === 5 && (packet.properties?.sessionExpiryInterval ?? 0) * 1000 > expiryMs
        ? { sessionExpiryInterval: Math.floor(expiryMs / 1000) }
        : {}),
      ...(response?.mqttUserProperties && response.mqttUserProperties.length > 0
        ? { userProperties: userPropertyObject(response.mqttUserProperties) }
        : {}),
    };
    const attachment = {
      packet,
      connackProperties,
      expiryMs,
      will: willOf(packet, version),
    };
    this.#unbound.delete(link);
    // A session is resumed by the same protocol version only; another version starts afresh.
    if (existing && !existing.ended && !cleanStart && existing.protocolVersion === version) {
      existing.attach(link, { ...attachment, sessionPresent: true });
      this.#record(
        hub,
        'recovered',
        clientId,
        existing.connection.userId,
        `MQTT ${versionName(version)}, session resumed`,
      );
      this.#options.log(
        `mqtt ${hub}/${clientId} resumed its session (MQTT ${versionName(version)})`,
      );
      return;
    }
    if (existing && !existing.ended) {
      existing.takeOver('another connection with the same client id started a clean session');
    }
    const tokenUser = typeof claims.sub === 'string' && claims.sub !== '' ? claims.sub : undefined;
    const userId =
      response?.userId !== undefined && response.userId !== null
        ? response.userId || undefined
        : tokenUser;
    const roles = response?.roles ?? stringList(claims.role);
    const tokenGroups = stringList(claims['webpubsub.group']);
    const groups =
      response?.groups && response.groups.length > 0
        ? [...tokenGroups, ...response.groups]
        : tokenGroups;
    const session = new MqttSession(
      {
        hubs: this.#options.hubs,
        upstream: this.#options.upstream,
        traffic: this.#options.traffic,
        log: this.#options.log,
        limits: this.#options.limits,
        ended: ended => {
          const k = sessionKey(ended.connection.hub, ended.connection.connectionId);
          if (this.#sessions.get(k) === ended) this.#sessions.delete(k);
        },
      },
      { ...subject, hub, userId, state: subject.state, nextEventId: 1 },
      version,
    );
    session.connection = new Connection(hub, clientId, userId, roles, MQTT_SUBPROTOCOL, session);
    session.connection.mqttVersion = version;
    this.#options.hubs.add(session.connection, groups);
    this.#sessions.set(key, session);
    session.attach(link, { ...attachment, sessionPresent: false });
    this.#record(hub, 'connected', clientId, userId, `MQTT ${versionName(version)}`);
    this.#options.log(
      `mqtt ${hub}/${clientId} connected` +
        (userId ? ` as ${userId}` : '') +
        ` (MQTT ${versionName(version)}${assigned ? ', assigned client id' : ''})`,
    );
    this.#options.upstream.notify(session.subject, 'connected');
  }

  /** CONNACK with the refusal (its code in the client's version, reason and properties for 5.0), then close. */
  #refuseConnect(
    link: MqttLink,
    hub: string,
    clientId: string,
    version: number,
    problem: ConnectProblem,
    status?: number,
  ): void {
    const code = refusalCode(problem, version);
    link.send({
      cmd: 'connack',
      sessionPresent: false,
      returnCode: code,
      reasonCode: code,
      properties:
        version === 5
          ? {
              reasonString: clip(problem.reason),
              userProperties: userPropertyObject(problem.userProperties),
            }
          : undefined,
    });
    link.close(problem.reason);
    const detail = `CONNACK ${code} (0x${code.toString(16)}): ${problem.reason}`;
    this.#options.traffic.record({
      kind: 'connection',
      hub,
      action: 'rejected',
      connectionId: clientId || undefined,
      subprotocol: MQTT_SUBPROTOCOL,
      status,
      detail,
    });
    this.#options.log(`mqtt ${hub}/${clientId || '(no client id)'} refused: ${detail}`);
  }

  #record(
    hub: string,
    action: string,
    connectionId: string,
    userId: string | undefined,
    detail: string,
  ): void {
    this.#options.traffic.record({
      kind: 'connection',
      hub,
      action,
      connectionId,
      userId,
      subprotocol: MQTT_SUBPROTOCOL,
      detail,
    });
  }

  #rejected(hub: string, status: number, message: string): never {
    this.#options.traffic.record({
      kind: 'connection',
      hub,
      action: 'rejected',
      status,
      subprotocol: MQTT_SUBPROTOCOL,
      detail: message,
    });
    this.#options.log(`mqtt ${hub} refused with ${status}: ${message}`);
    throw new Refusal(status, message);
  }

  /** Ends every session (MQTT 5: DISCONNECT 0x8B) without upstream events. */
  close(): void {
    this.#closed = true;
    for (const session of this.#sessions.values()) session.shutdown();
    this.#sessions.clear();
    for (const link of this.#unbound) link.terminate();
    this.#unbound.clear();
    for (const socket of this.#pendingSockets) socket.destroy();
    this.#pendingSockets.clear();
    this.#wss.close();
  }
}

function versionName(version: number): string {
  return version === 5 ? '5.0' : '3.1.1';
}

function parseRequest(req: IncomingMessage): ClientRequest {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const match = /^\/clients\/mqtt\/hubs\/([^/]+)\/?$/.exec(url.pathname);
  if (!match) {
    throw new Refusal(
      404,
      `no MQTT endpoint at ${url.pathname.slice(0, 200)}; use /clients/mqtt/hubs/{hub}`,
    );
  }
  let hub: string;
  try {
    hub = decodeURIComponent(match[1]);
  } catch {
    throw new Refusal(400, 'the hub name in the path is not valid percent-encoding');
  }
  const problem = hubNameProblem(hub);
  if (problem) throw new Refusal(400, problem);
  const offered = (req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map(name => name.trim())
    .filter(name => name !== '');
  return { hub, query: url.searchParams, offered };
}
