/**
 * MQTT clients (MQTT.js 5.16, `protocolVersion` 4 = 3.1.1 and 5 = 5.0) on the emulator's
 * `/clients/mqtt/hubs/{hub}`, the URL of `getClientAccessToken({ clientProtocol: 'mqtt' })` used as
 * it is: with this module as the upstream on Express and Fastify, then the protocol rules on their
 * own. Negative checks wait for a later positive event on the same client first (delivery is in
 * order).
 *
 * With this module upstream (`test/fixtures/mqtt.handlers.ts`):
 * - accepted: CONNACK 0; MQTT 5 CONNACK user properties `welcome`/`tier` from the answer,
 *   `retainAvailable`/`wildcardSubscriptionAvailable`/`sharedSubscriptionAvailable` false; the
 *   handler sees `mqtt.protocolVersion`, `username`, the password bytes `00 01 02 ff` as base64,
 *   MQTT 5 user properties, the token's `sub` in `claims`, no `access_token`, `clientProtocol:
 *   'mqtt'`, a 24-hex `ce-physicalConnectionId`, no `ce-sessionId` on connect and the same session
 *   id on `connected` and `disconnected`; the live view shows subprotocol `mqtt`, `mqttVersion` 4
 *   or 5 and the answer's group; `disconnected` after DISCONNECT is `{initiatedByClient: true,
 *   disconnectPacket: {code: 0}}`;
 * - refusals, exact CONNACK codes: `UnauthorizedException` → 5 / 0x87; `MqttConnectError` Banned →
 *   0x8A with reason `banned device` and user property `why=abuse` (5.0) / 5 (3.1.1);
 *   IdentifierRejected → 2 / 0x85 with its reason; a reason over 200 characters cut to 199 and
 *   `…`; ServerBusy → 0x89; a crashing handler → 3 / 0x80
 *   without its secret;
 * - a user event with user properties (`unit`, `room` twice) round-trips through
 *   `@OnUserEvent('telemetry')`: the reply on `…/telemetry/succeeded` carries the payload, QoS 1,
 *   the correlation data, the content type and user properties `received=2`, `unit`, `room=a, b`,
 *   `azure-status-code=200`; an event the module has no handler for → an empty `…/succeeded` with
 *   `azure-status-code=204`; a content type with a control character (cannot be a header) →
 *   `…/telemetry/failed` naming it, the PUBACK still sent;
 * - an abrupt socket close delivers the will to a subscriber and `disconnected`
 *   `{initiatedByClient: true, disconnectPacket: null}`.
 *
 * Protocol rules (no upstream, REST data plane on):
 * - without `joinLeaveGroup`, SUBACK `[0x80 or 0x87, 1]` for `locked`/`open` and only `open`
 *   joined; without `sendToGroup`, PUBACK 0x87 (5.0) or a plain ack (3.1.1) and nothing delivered
 *   (checked after a permitted message arrives);
 * - MQTT ↔ `@azure/web-pubsub-client` in one group: MQTT 5 `application/json`/`text/plain` → `json
 *   {t: 21}`/`text`, 3.1.1 → `binary`; JSON text/json/binary → MQTT payloads with content types
 *   `text/plain`/`application/json`/`application/octet-stream` (5.0), QoS 1; REST
 *   `sendToAll`/`sendToConnection` on `$webpubsub/server/messages`, a group send on the topic;
 * - the traffic log holds the device's `subscribe` and `publish` frames with topic, payload
 *   (`{"t":21}`, `plain words`), data type (`json`/`text` for 5.0, `binary` for 3.1.1) and reach 2,
 *   the JSON client's three `sendToGroup` frames with previews `from json`, `{"a":1}`,
 *   `base64:Bwg=` and reach 2, and the REST sends with reach 2, 2 and 1;
 * - no handler → `…/failed` with the reason; QoS 2: PUBREC/PUBCOMP, a resent packet id gets PUBREC
 *   twice and is delivered once; UNSUBSCRIBE leaves the group (5.0 UNSUBACK `[0x00, 0x11]` for a
 *   subscribed and an unknown topic);
 * - MQTT 5 will delay 1 s with session expiry 2 s: the will arrives ≥ 0.9 s after the socket is
 *   lost; after DISCONNECT no will; REST `closeConnection` → DISCONNECT 0x98 with the reason (5.0),
 *   the will, the session gone;
 * - wildcard and shared subscriptions → SUBACK 0x80/0x80 (3.1.1), 0xA2/0x9E (5.0); retained PUBLISH
 *   → DISCONNECT 0x9A (5.0) or a closed connection (3.1.1); topic alias → DISCONNECT 0x94; retained
 *   will → CONNACK 0x9A; client id `has_underscore` → 2 / 0x85; 3.1.1 keep-alive 0 → 3; a
 *   2,001-byte will → 0x95 with the sizes in the reason; a will topic `room/#` → 0x90; MQTT 3.1 →
 *   CONNACK 1; an empty client id → a 32-hex assigned id that is the connection id; keep-alive 1 s
 *   of silence → cut after ≥ 1.4 s (5.0: DISCONNECT 0x8D first);
 * - no token or a default-endpoint token → 401, no `mqtt` subprotocol → 400, the token as
 *   `Authorization: Bearer` → 101, an invalid hub → 400, another path → 404;
 * - MQTT 5 session expiry 60 s capped to 2 s (CONNACK says 2), resumed after a lost socket with
 *   session present and the QoS 1 message sent meanwhile.
 *
 * Broken on purpose: breaking the SUBSCRIBE permission check fails the permission test (SUBACK `[1,
 * 1]`), and so does breaking the PUBLISH check (PUBACK 0 instead of 0x87).
 */
import mqtt, { type IClientOptions, type MqttClient, type Packet } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import WebSocket from 'ws';
import { WebPubSubClient, type OnGroupDataMessageArgs } from '@azure/web-pubsub-client';
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import { startEmulator, type RunningEmulator } from '../../../lib/emulator/index.js';
import { createRestApi } from '../../../lib/emulator/rest/rest-api.js';
import { MQTT_LONG_REASON, MqttHandlers } from '../../fixtures/mqtt.handlers.js';
import { PLATFORMS, type TestApp } from '../../utils/app.js';
import { waitFor } from '../../utils/wait.js';
import { FAST_TIMINGS, LogLines, SDK_TEST_OPTIONS, startAppUpstream } from '../harness.js';

const VERSIONS = [4, 5] as const;
type Version = (typeof VERSIONS)[number];
const ALL_ROLES = ['webpubsub.joinLeaveGroup', 'webpubsub.sendToGroup'];

/** An MQTT client URL signed by the official service SDK (`clientProtocol: 'mqtt'`), used as it is. */
async function mqttUrl(
  emulator: RunningEmulator,
  options: { userId?: string; roles?: string[]; groups?: string[] } = {},
): Promise<string> {
  const service = new WebPubSubServiceClient(emulator.connectionString, 'chat');
  return (await service.getClientAccessToken({ ...options, clientProtocol: 'mqtt' })).url;
}

interface Received {
  readonly topic: string;
  readonly payload: Buffer;
  readonly packet: Packet & { properties?: Record<string, any>; qos?: number };
}

/** MQTT.js with every packet it received recorded. */
class Device {
  readonly received: Received[] = [];
  readonly packets: (Packet & Record<string, any>)[] = [];
  client!: MqttClient;

  static async connect(url: string, options: IClientOptions): Promise<Device> {
    const device = new Device();
    device.client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
    device.client.on('packetreceive', packet => device.packets.push(packet as any));
    device.client.on('message', (topic, payload, packet) =>
      device.received.push({ topic, payload, packet: packet as any }),
    );
    await new Promise<void>((resolve, reject) => {
      device.client.once('connect', () => resolve());
      device.client.once('error', reject);
      device.client.once('close', () => reject(new Error('closed before CONNACK')));
    });
    return device;
  }

  /** Connects expecting a refusal: the CONNACK as received. */
  static async refused(url: string, options: IClientOptions): Promise<Record<string, any>> {
    const device = new Device();
    device.client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
    device.client.on('error', () => undefined);
    const connack = await new Promise<Record<string, any>>((resolve, reject) => {
      device.client.on('packetreceive', packet => {
        if (packet.cmd === 'connack') resolve(packet as any);
      });
      device.client.once('connect', () => reject(new Error('accepted')));
    });
    await waitFor(() => device.client.disconnected || !device.client.connected);
    device.client.end(true);
    return connack;
  }

  on(topic: string): Received[] {
    return this.received.filter(message => message.topic === topic);
  }

  async end(): Promise<void> {
    await this.client.endAsync();
  }
}

/** A bare WebSocket speaking MQTT through mqtt-packet, for what MQTT.js would not send. */
class RawMqtt {
  readonly packets: (Packet & Record<string, any>)[] = [];
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;
  readonly #parser: ReturnType<typeof mqttPacket.parser>;

  constructor(
    url: string,
    readonly version: Version,
  ) {
    this.ws = new WebSocket(url, 'mqtt');
    this.#parser = mqttPacket.parser({ protocolVersion: version });
    this.#parser.on('packet', packet => this.packets.push(packet as any));
    this.ws.on('message', (data: Buffer) => this.#parser.parse(data));
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.closed = new Promise(resolve => this.ws.once('close', code => resolve(code)));
  }

  send(packet: Record<string, unknown>): void {
    this.ws.send(mqttPacket.generate(packet as never, { protocolVersion: this.version }));
  }
}

const utf8 = (value: Buffer | ArrayBuffer | string) =>
  typeof value === 'string' ? value : Buffer.from(value as ArrayBuffer).toString('utf8');

describe.each(PLATFORMS)(
  'MQTT clients on the emulator with this module upstream (%s)',
  platform => {
    let emulator: RunningEmulator;
    let app: TestApp;
    let handlers: MqttHandlers;
    const logs = new LogLines();

    beforeAll(async () => {
      ({ app, emulator, handlers } = await startAppUpstream(platform, MqttHandlers, logs.log));
    });

    afterAll(async () => {
      await emulator?.close();
      await app?.close();
    });

    const calls = (event: string, connectionId: string) =>
      handlers.calls.filter(
        call => call.event === event && call.request.context.connectionId === connectionId,
      );

    it.each(VERSIONS)(
      'MQTT %i: accepted by the connect handler (CONNACK user properties for 5.0), connect body and ce-* headers as the service sends them, live view with the version',
      async version => {
        const clientId = `accept${version}${platform}`;
        const device = await Device.connect(await mqttUrl(emulator, { userId: 'token-user' }), {
          protocolVersion: version,
          clientId,
          username: 'device-7',
          password: Buffer.from([0, 1, 2, 255]),
          properties: version === 5 ? { userProperties: { model: 'x1' } } : undefined,
        });
        const connack = device.packets.find(packet => packet.cmd === 'connack')!;
        expect(connack.sessionPresent).toBe(false);
        if (version === 5) {
          expect(connack.reasonCode).toBe(0);
          expect(connack.properties).toMatchObject({
            userProperties: { welcome: 'yes', tier: 'gold' },
            retainAvailable: false,
            wildcardSubscriptionAvailable: false,
            sharedSubscriptionAvailable: false,
          });
        } else {
          expect(connack.returnCode).toBe(0);
        }
        await waitFor(() => calls('connected', clientId).length === 1);
        const connect = calls('connect', clientId)[0].request;
        expect(connect.mqtt).toEqual(
          expect.objectContaining({
            protocolVersion: version,
            username: 'device-7',
            password: Buffer.from([0, 1, 2, 255]).toString('base64'),
            ...(version === 5 ? { userProperties: [{ name: 'model', value: 'x1' }] } : {}),
          }),
        );
        expect(connect.claims.sub).toEqual(['token-user']);
        expect(connect.query.access_token).toBeUndefined();
        expect(connect.context).toMatchObject({
          clientProtocol: 'mqtt',
          subprotocol: 'mqtt',
          userId: undefined,
          mqtt: { physicalConnectionId: expect.stringMatching(/^[0-9a-f]{24}$/) },
        });
        expect(connect.context.mqtt.sessionId).toBeUndefined();
        const connected = calls('connected', clientId)[0].request.context;
        expect(connected.userId).toBe('device-7');
        expect(connected.mqtt).toEqual({
          physicalConnectionId: connect.context.mqtt.physicalConnectionId,
          sessionId: expect.stringMatching(/^[0-9a-f]{24}$/),
        });
        const view = [...emulator.hubs.listConnections('chat')].find(
          connection => connection.connectionId === clientId,
        );
        expect(view).toMatchObject({
          subprotocol: 'mqtt',
          mqttVersion: version,
          userId: 'device-7',
        });
        // The connect answer's group: joined without a SUBSCRIBE.
        expect([...view!.groups]).toEqual(['devices']);
        await device.end();
        await waitFor(() => calls('disconnected', clientId).length === 1);
        const disconnected = calls('disconnected', clientId)[0].request;
        expect(disconnected.mqtt).toEqual({
          initiatedByClient: true,
          disconnectPacket: { code: 0 },
        });
        expect(disconnected.context.mqtt.sessionId).toBe(connected.mqtt.sessionId);
      },
    );

    it.each([
      // [username, version, CONNACK code, MQTT 5 reason string, user properties]
      ['unauthorized', 4, 5, undefined, undefined],
      ['unauthorized', 5, 0x87, undefined, undefined],
      ['banned', 5, 0x8a, 'banned device', { why: 'abuse' }],
      ['banned', 4, 5, undefined, undefined],
      ['identifier', 4, 2, undefined, undefined],
      ['identifier', 5, 0x85, 'client id rejected', undefined],
      // A reason over 200 characters is cut as every MQTT 5 reason string is: 199 and an ellipsis.
      ['verbose', 5, 0x8a, `${MQTT_LONG_REASON.slice(0, 199)}…`, undefined],
      ['busy', 5, 0x89, undefined, undefined],
      ['crash', 4, 3, undefined, undefined],
      ['crash', 5, 0x80, undefined, undefined],
    ] as const)(
      'a connect handler refusing (%s) gives MQTT %i clients CONNACK %i',
      async (username, version, code, reason, userProperties) => {
        const connack = await Device.refused(await mqttUrl(emulator), {
          protocolVersion: version,
          clientId: `refused${username}${version}`,
          username,
        });
        if (version === 5) {
          expect(connack.reasonCode).toBe(code);
          if (reason) expect(connack.properties?.reasonString).toBe(reason);
          if (userProperties) expect(connack.properties?.userProperties).toEqual(userProperties);
          // The handler's secret never reaches the client.
          expect(JSON.stringify(connack)).not.toContain('swordfish');
        } else {
          expect(connack.returnCode).toBe(code);
        }
        expect(calls('connected', `refused${username}${version}`)).toHaveLength(0);
      },
    );

    it.each(VERSIONS)(
      'MQTT %i: a user event with user properties round-trips through @OnUserEvent; the reply comes back on .../succeeded',
      async version => {
        const clientId = `events${version}${platform}`;
        const device = await Device.connect(await mqttUrl(emulator), {
          protocolVersion: version,
          clientId,
        });
        await device.client.publishAsync('$webpubsub/server/events/telemetry', 'temp=21', {
          qos: 1,
          properties:
            version === 5
              ? {
                  userProperties: { unit: 'celsius', room: ['a', 'b'] },
                  correlationData: Buffer.from('req-1'),
                  contentType: 'application/octet-stream',
                }
              : undefined,
        });
        await waitFor(() => device.on('$webpubsub/server/events/telemetry/succeeded').length === 1);
        const reply = device.on('$webpubsub/server/events/telemetry/succeeded');
        expect(utf8(reply[0].payload)).toBe('temp=21');
        expect(reply[0].packet.qos).toBe(1);
        const handled = calls('telemetry', clientId)[0].request;
        expect(Buffer.from(handled.data).toString('utf8')).toBe('temp=21');
        if (version === 5) {
          expect(handled.mqtt.userProperties).toEqual([
            { name: 'unit', value: 'celsius' },
            { name: 'room', value: 'a, b' },
          ]);
          expect(reply[0].packet.properties).toMatchObject({
            correlationData: Buffer.from('req-1'),
            contentType: 'application/octet-stream',
            userProperties: {
              received: '2',
              unit: 'celsius',
              room: 'a, b',
              'azure-status-code': '200',
            },
          });
        } else {
          expect(handled.mqtt?.userProperties ?? []).toEqual([]);
          expect(reply[0].packet.properties).toBeUndefined();
        }
        if (version === 5) {
          // A content type that cannot be an HTTP header value: answered on .../failed, never hanging.
          await device.client.publishAsync('$webpubsub/server/events/telemetry', 'x', {
            qos: 1,
            properties: { contentType: 'text/plain\u0001' },
          });
          expect(utf8(device.on('$webpubsub/server/events/telemetry/failed')[0].payload)).toMatch(
            /cannot be sent: .*control characters/,
          );
        }
        // The module answers an event it has no handler for with 204: an empty .../succeeded.
        await device.client.publishAsync('$webpubsub/server/events/nobody', 'x', { qos: 0 });
        await waitFor(() => device.on('$webpubsub/server/events/nobody/succeeded').length === 1);
        const empty = device.on('$webpubsub/server/events/nobody/succeeded')[0];
        expect(empty.payload).toEqual(Buffer.alloc(0));
        expect(empty.packet.qos).toBe(0);
        if (version === 5)
          expect(empty.packet.properties?.userProperties).toEqual({ 'azure-status-code': '204' });
        await device.end();
      },
    );

    it.each(VERSIONS)(
      'MQTT %i: an abrupt socket close delivers the will to the group and sends disconnected',
      async version => {
        const clientId = `will${version}${platform}`;
        const watcher = await Device.connect(await mqttUrl(emulator, { roles: ALL_ROLES }), {
          protocolVersion: version,
          clientId: `watcher${version}${platform}`,
        });
        await watcher.client.subscribeAsync(`alarms${version}`, { qos: 1 });
        const device = await Device.connect(await mqttUrl(emulator, { roles: ALL_ROLES }), {
          protocolVersion: version,
          clientId,
          will: {
            topic: `alarms${version}`,
            payload: Buffer.from(`${clientId} is gone`),
            qos: 1,
            retain: false,
          },
        });
        await waitFor(() => calls('connected', clientId).length === 1);
        // The socket dies without DISCONNECT.
        (device.client.stream as unknown as { destroy(): void }).destroy();
        await waitFor(() => watcher.on(`alarms${version}`).length === 1);
        expect(utf8(watcher.on(`alarms${version}`)[0].payload)).toBe(`${clientId} is gone`);
        await waitFor(() => calls('disconnected', clientId).length === 1);
        const disconnected = calls('disconnected', clientId)[0].request;
        expect(disconnected.mqtt).toEqual({ initiatedByClient: true, disconnectPacket: null });
        expect(disconnected.reason).toMatch(/without DISCONNECT/);
        device.client.end(true);
        await watcher.end();
      },
    );
  },
);

describe('MQTT protocol rules on the emulator (no upstream)', () => {
  let emulator: RunningEmulator;
  let service: WebPubSubServiceClient;
  const logs = new LogLines();
  const devices: Device[] = [];
  const jsonClients: WebPubSubClient[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({
      port: 0,
      log: logs.log,
      timings: FAST_TIMINGS,
      hubs: { chat: {} },
      restApi: createRestApi,
    });
    service = new WebPubSubServiceClient(emulator.connectionString, 'chat', {
      allowInsecureConnection: true,
    });
  });

  afterEach(async () => {
    for (const device of devices.splice(0)) device.client.end(true);
    for (const client of jsonClients.splice(0)) client.stop();
  });

  afterAll(async () => {
    await emulator?.close();
  });

  const device = async (version: Version, options: IClientOptions = {}, roles = ALL_ROLES) => {
    const connected = await Device.connect(await mqttUrl(emulator, { roles }), {
      protocolVersion: version,
      clientId: `d${Math.random().toString(36).slice(2)}`,
      ...options,
    });
    devices.push(connected);
    return connected;
  };

  it.each(VERSIONS)(
    'MQTT %i: SUBSCRIBE without webpubsub.joinLeaveGroup is refused, PUBLISH without webpubsub.sendToGroup is not delivered',
    async version => {
      const refusal = version === 5 ? 0x87 : 0x80;
      const listener = await device(version);
      await listener.client.subscribeAsync('locked', { qos: 1 });
      const noRights = await device(version, {}, ['webpubsub.joinLeaveGroup.open']);
      const granted = await noRights.client
        .subscribeAsync(['locked', 'open'], { qos: 1 })
        .catch((error: { packet: { granted: number[] } }) => error.packet);
      const suback = noRights.packets.find(packet => packet.cmd === 'suback')!;
      expect(suback.granted).toEqual([refusal, 1]);
      expect(granted).toBeDefined();
      expect(
        [...emulator.hubs.listConnections('chat')].find(
          c => c.connectionId === noRights.client.options.clientId,
        )?.groups,
      ).toEqual(new Set(['open']));
      // Publish refused: MQTT 5 reads the reason code in PUBACK; 3.1.1 only gets an ack.
      const published = noRights.client.publishAsync('locked', 'sneaky', { qos: 1 }).then(
        () => 0,
        (error: { code: number }) => error.code,
      );
      expect(await published).toBe(version === 5 ? 0x87 : 0);
      // Sync point: a permitted sender's message arrives after the refused one would have.
      const allowed = await device(version);
      await allowed.client.publishAsync('locked', 'fine', { qos: 1 });
      await waitFor(() => listener.on('locked').length >= 1);
      expect(listener.on('locked').map(message => utf8(message.payload))).toEqual(['fine']);
      expect(logs.matching(/publish to locked refused: no permission/).length).toBeGreaterThan(0);
    },
  );

  it.each(VERSIONS)(
    'MQTT %i and a JSON client (@azure/web-pubsub-client) in one group see each other with the right data types; REST sends reach MQTT',
    async version => {
      const group = `room${version}`;
      const mqttDevice = await device(version);
      await mqttDevice.client.subscribeAsync(group, { qos: 1 });
      const json = new WebPubSubClient(
        await service.getClientAccessToken({ roles: ALL_ROLES }).then(token => token.url),
        SDK_TEST_OPTIONS,
      );
      jsonClients.push(json);
      const seen: OnGroupDataMessageArgs[] = [];
      json.on('group-message', event => seen.push(event));
      await json.start();
      await json.joinGroup(group);

      await mqttDevice.client.publishAsync(group, '{"t":21}', {
        qos: 1,
        properties: version === 5 ? { contentType: 'application/json' } : undefined,
      });
      await mqttDevice.client.publishAsync(group, 'plain words', {
        qos: 0,
        properties: version === 5 ? { contentType: 'text/plain' } : undefined,
      });
      await waitFor(() => seen.length === 2);
      if (version === 5) {
        expect(seen.map(event => [event.message.dataType, event.message.data])).toEqual([
          ['json', { t: 21 }],
          ['text', 'plain words'],
        ]);
      } else {
        expect(seen.map(event => event.message.dataType)).toEqual(['binary', 'binary']);
        expect(utf8(seen[1].message.data as ArrayBuffer)).toBe('plain words');
      }
      expect(seen[0].message.group).toBe(group);

      await json.sendToGroup(group, 'from json', 'text');
      await json.sendToGroup(group, { a: 1 }, 'json');
      await json.sendToGroup(group, new Uint8Array([7, 8]).buffer, 'binary');
      await waitFor(() => mqttDevice.on(group).length === 5);
      const fromJson = mqttDevice.on(group).slice(2);
      expect(fromJson.map(message => message.payload)).toEqual([
        Buffer.from('from json'),
        Buffer.from('{"a":1}'),
        Buffer.from([7, 8]),
      ]);
      expect(fromJson.map(message => message.packet.properties?.contentType)).toEqual(
        version === 5
          ? ['text/plain', 'application/json', 'application/octet-stream']
          : [undefined, undefined, undefined],
      );
      // Granted QoS 1: messages arrive with QoS 1 (at most 1 toward MQTT).
      expect(fromJson.every(message => message.packet.qos === 1)).toBe(true);

      await service.sendToAll('to everyone', { contentType: 'text/plain' });
      await service.group(group).sendToAll({ to: 'group' });
      await service.sendToConnection(mqttDevice.client.options.clientId!, new Uint8Array([1]));
      await waitFor(() => mqttDevice.on('$webpubsub/server/messages').length === 2);
      await waitFor(() => mqttDevice.on(group).length === 6);
      expect(mqttDevice.on('$webpubsub/server/messages').map(m => m.payload)).toEqual([
        Buffer.from('to everyone'),
        Buffer.from([1]),
      ]);
      expect(mqttDevice.on(group)[5].payload).toEqual(Buffer.from('{"to":"group"}'));

      // The live view's record of it: the device's frames with topic, data and reach, the JSON
      // client's sendToGroup frames, the REST sends with their reach.
      const records = emulator.traffic.snapshot();
      const frames = records.filter(
        r => r.kind === 'client' && r.connectionId === mqttDevice.client.options.clientId,
      );
      expect(frames.map(r => [r.action, r.target])).toEqual(
        expect.arrayContaining([
          ['subscribe', group],
          ['publish', group],
        ]),
      );
      const publishes = frames.filter(r => r.action === 'publish');
      expect(publishes.map(r => [r.request?.body, r.reach])).toEqual([
        ['{"t":21}', 2],
        ['plain words', 2],
      ]);
      expect(publishes.map(r => r.dataType)).toEqual(
        version === 5 ? ['json', 'text'] : ['binary', 'binary'],
      );
      const jsonFrames = records.filter(
        r => r.kind === 'client' && r.action === 'sendToGroup' && r.target === group,
      );
      expect(jsonFrames.map(r => [r.preview, r.reach])).toEqual([
        ['from json', 2],
        ['{"a":1}', 2],
        ['base64:Bwg=', 2],
      ]);
      const rest = records.filter(r => r.kind === 'rest' && r.action.startsWith('send')).slice(-3);
      expect(rest.map(r => [r.action, r.reach])).toEqual([
        ['sendToAll', 2],
        ['sendToGroup', 2],
        ['sendToConnection', 1],
      ]);
    },
  );

  it.each(VERSIONS)(
    'MQTT %i: a user event no handler takes is answered on .../failed with the reason',
    async version => {
      const sender = await device(version);
      await sender.client.publishAsync('$webpubsub/server/events/lost', 'x', { qos: 1 });
      const failed = sender.on('$webpubsub/server/events/lost/failed');
      expect(failed.map(message => utf8(message.payload))).toEqual([
        'no event handler takes the user event "lost"',
      ]);
      if (version === 5) expect(failed[0].packet.properties?.contentType).toMatch(/^text\/plain/);
    },
  );

  it.each(VERSIONS)(
    'MQTT %i: QoS 2 publishes complete (PUBREC, PUBREL, PUBCOMP) and are delivered once, a resent one too',
    async version => {
      const listener = await device(version);
      await listener.client.subscribeAsync('exactly', { qos: 2 });
      const sender = await device(version);
      await sender.client.publishAsync('exactly', 'once', { qos: 2 });
      expect(sender.packets.map(packet => packet.cmd)).toEqual(
        expect.arrayContaining(['pubrec', 'pubcomp']),
      );
      // The same packet id again before PUBREL (a resend): PUBREC again, not delivered twice.
      const raw = new RawMqtt(await mqttUrl(emulator, { roles: ALL_ROLES }), version);
      await raw.opened;
      raw.send({
        cmd: 'connect',
        protocolVersion: version,
        clientId: `qos2raw${version}`,
        keepalive: 30,
        clean: true,
      });
      await waitFor(() => raw.packets.some(packet => packet.cmd === 'connack'));
      const publish = {
        cmd: 'publish',
        topic: 'exactly',
        payload: 'raw',
        qos: 2,
        messageId: 7,
        retain: false,
      };
      raw.send({ ...publish, dup: false });
      raw.send({ ...publish, dup: true });
      await waitFor(() => raw.packets.filter(packet => packet.cmd === 'pubrec').length === 2);
      raw.send({ cmd: 'pubrel', messageId: 7 });
      await waitFor(() => raw.packets.some(packet => packet.cmd === 'pubcomp'));
      expect(raw.packets.find(packet => packet.cmd === 'pubcomp')?.messageId).toBe(7);
      // Sync point: a later message arrives after any duplicate would have.
      await sender.client.publishAsync('exactly', 'last', { qos: 1 });
      await waitFor(() => listener.on('exactly').length >= 3);
      expect(listener.on('exactly').map(message => utf8(message.payload))).toEqual([
        'once',
        'raw',
        'last',
      ]);
      // Toward MQTT clients the service publishes with QoS 1 at most.
      expect(listener.on('exactly').every(message => message.packet.qos === 1)).toBe(true);
      raw.ws.close();
    },
  );

  it.each(VERSIONS)(
    'MQTT %i: no will after a DISCONNECT; REST closeConnection ends the session (5.0: DISCONNECT 0x98 with the reason)',
    async version => {
      const watcher = await device(version);
      await watcher.client.subscribeAsync(`wills${version}`, { qos: 1 });
      const polite = await device(version, {
        will: { topic: `wills${version}`, payload: Buffer.from('polite'), qos: 1, retain: false },
      });
      await polite.end();
      const closed = await device(version, {
        will: { topic: `wills${version}`, payload: Buffer.from('closed'), qos: 1, retain: false },
      });
      const gone = new Promise<void>(resolve => closed.client.once('close', () => resolve()));
      await service.closeConnection(closed.client.options.clientId!, { reason: 'maintenance' });
      await gone;
      if (version === 5) {
        expect(closed.packets.find(packet => packet.cmd === 'disconnect')).toMatchObject({
          reasonCode: 0x98,
          properties: { reasonString: 'maintenance' },
        });
      }
      // The server closed the connection: the will goes out (sync point for the polite one).
      await waitFor(() => watcher.on(`wills${version}`).length >= 1);
      expect(watcher.on(`wills${version}`).map(message => utf8(message.payload))).toEqual([
        'closed',
      ]);
      expect(emulator.hubs.connectionExists('chat', closed.client.options.clientId!)).toBe(false);
    },
  );

  it.each(VERSIONS)(
    'MQTT %i: UNSUBSCRIBE leaves the group (5.0: UNSUBACK 0x00, and 0x11 for a topic not subscribed)',
    async version => {
      const member = await device(version);
      const id = member.client.options.clientId!;
      await member.client.subscribeAsync('passing', { qos: 1 });
      expect(emulator.hubs.groupExists('chat', 'passing')).toBe(true);
      await member.client.unsubscribeAsync(['passing', 'never']).catch(() => undefined);
      const unsuback = member.packets.find(packet => packet.cmd === 'unsuback')!;
      if (version === 5) expect(unsuback.granted).toEqual([0x00, 0x11]);
      expect(
        [...emulator.hubs.listConnections('chat')].find(c => c.connectionId === id)?.groups,
      ).toEqual(new Set());
    },
  );

  it('MQTT 5: the will waits for its delay after a lost connection (session expiry 2 s, delay 1 s)', async () => {
    const watcher = await device(5);
    await watcher.client.subscribeAsync('delayed', { qos: 1 });
    const dying = await device(5, {
      clean: false,
      properties: { sessionExpiryInterval: 2 },
      will: {
        topic: 'delayed',
        payload: Buffer.from('late'),
        qos: 1,
        retain: false,
        properties: { willDelayInterval: 1 },
      },
    });
    const lost = Date.now();
    (dying.client.stream as unknown as { destroy(): void }).destroy();
    await waitFor(() => watcher.on('delayed').length === 1);
    expect(Date.now() - lost).toBeGreaterThanOrEqual(900);
    expect(utf8(watcher.on('delayed')[0].payload)).toBe('late');
  });

  it.each([
    [4, 0x80, 0x80],
    [5, 0xa2, 0x9e],
  ] as const)(
    'MQTT %i: wildcard and shared subscriptions are refused (SUBACK %i and %i)',
    async (version, wildcard, shared) => {
      const subscriber = await device(version);
      await subscriber.client
        .subscribeAsync(['a/+', '$share/g/t', 'b/#'], { qos: 1 })
        .catch(() => undefined);
      const suback = subscriber.packets.find(packet => packet.cmd === 'suback')!;
      expect(suback.granted).toEqual([wildcard, shared, wildcard]);
      if (version === 5)
        expect(suback.properties?.reasonString).toMatch(/wildcard subscriptions are not supported/);
    },
  );

  it.each(VERSIONS)(
    'MQTT %i: a retained PUBLISH ends the connection (5.0: DISCONNECT 0x9A first)',
    async version => {
      const publisher = await device(version);
      const closed = new Promise<void>(resolve => publisher.client.once('close', () => resolve()));
      publisher.client.publish('news', 'kept?', { qos: 1, retain: true });
      await closed;
      const disconnect = publisher.packets.find(packet => packet.cmd === 'disconnect');
      if (version === 5) expect(disconnect?.reasonCode).toBe(0x9a);
      else expect(disconnect).toBeUndefined();
    },
  );

  it('MQTT 5: a topic alias is refused with DISCONNECT 0x94; a retained will with CONNACK 0x9A', async () => {
    const url = await mqttUrl(emulator, { roles: ALL_ROLES });
    const raw = new RawMqtt(url, 5);
    await raw.opened;
    raw.send({
      cmd: 'connect',
      protocolVersion: 5,
      clientId: 'aliased',
      keepalive: 30,
      clean: true,
    });
    await waitFor(() => raw.packets.some(packet => packet.cmd === 'connack'));
    raw.send({
      cmd: 'publish',
      topic: 'room',
      payload: 'x',
      qos: 0,
      properties: { topicAlias: 1 },
    });
    await raw.closed;
    expect(raw.packets.at(-1)).toMatchObject({ cmd: 'disconnect', reasonCode: 0x94 });

    const connack = await Device.refused(url, {
      protocolVersion: 5,
      clientId: 'retainedwill',
      will: { topic: 'room', payload: Buffer.from('bye'), qos: 0, retain: true },
    });
    expect(connack.reasonCode).toBe(0x9a);
  });

  it.each([
    [4, 2],
    [5, 0x85],
  ] as const)(
    'MQTT %i: a client id that is not [0-9a-zA-Z]{1,128} gets CONNACK %i',
    async (version, code) => {
      const connack = await Device.refused(await mqttUrl(emulator), {
        protocolVersion: version,
        clientId: 'has_underscore',
      });
      expect(version === 5 ? connack.reasonCode : connack.returnCode).toBe(code);
    },
  );

  it('the service limits at CONNECT: 3.1.1 keep-alive 0 → CONNACK 3; a 2,001-byte will → 5.0 CONNACK 0x95, a will topic with a wildcard → 0x90', async () => {
    const url = await mqttUrl(emulator);
    expect(
      (await Device.refused(url, { protocolVersion: 4, clientId: 'nokeepalive', keepalive: 0 }))
        .returnCode,
    ).toBe(3);
    const bigWill = await Device.refused(url, {
      protocolVersion: 5,
      clientId: 'bigwill',
      will: { topic: 'room', payload: Buffer.alloc(2001), qos: 0, retain: false },
    });
    expect(bigWill.reasonCode).toBe(0x95);
    expect(bigWill.properties?.reasonString).toMatch(/2001 bytes; at most 2000/);
    const wildWill = await Device.refused(url, {
      protocolVersion: 5,
      clientId: 'wildwill',
      will: { topic: 'room/#', payload: Buffer.from('x'), qos: 0, retain: false },
    });
    expect(wildWill.reasonCode).toBe(0x90);
  });

  it('MQTT 3.1 (protocol level 3) gets CONNACK 1 (unacceptable protocol version)', async () => {
    const connack = await Device.refused(await mqttUrl(emulator), {
      protocolVersion: 3,
      protocolId: 'MQIsdp',
      clientId: 'old',
    });
    expect(connack.returnCode).toBe(1);
  });

  it('MQTT 5: an empty client id is assigned one (the connection id)', async () => {
    const assigned = await device(5, { clientId: '' });
    const connack = assigned.packets.find(packet => packet.cmd === 'connack')!;
    const id = connack.properties?.assignedClientIdentifier as string;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(emulator.hubs.connectionExists('chat', id)).toBe(true);
  });

  it.each(VERSIONS)(
    'MQTT %i: a client silent for 1.5 × keep-alive is cut (5.0: DISCONNECT 0x8D first)',
    async version => {
      const raw = new RawMqtt(await mqttUrl(emulator), version);
      await raw.opened;
      const started = Date.now();
      raw.send({
        cmd: 'connect',
        protocolVersion: version,
        clientId: `silent${version}`,
        keepalive: 1,
        clean: true,
      });
      await waitFor(() => raw.packets.some(packet => packet.cmd === 'connack'));
      await raw.closed;
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(1400);
      if (version === 5)
        expect(raw.packets.at(-1)).toMatchObject({ cmd: 'disconnect', reasonCode: 0x8d });
      else expect(raw.packets.map(packet => packet.cmd)).toEqual(['connack']);
      expect(logs.matching(new RegExp(`silent${version} silent for 1.5`))).toHaveLength(1);
    },
  );

  it('tokens: none or one for the default endpoint is refused with 401 before the upgrade; the subprotocol mqtt is required', async () => {
    const status = (url: string, protocol = 'mqtt') =>
      new Promise<number>(resolve => {
        const ws = new WebSocket(url, protocol);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
      });
    const base = emulator.endpoint.replace('http', 'ws');
    expect(await status(`${base}/clients/mqtt/hubs/chat`)).toBe(401);
    const defaultToken = (await service.getClientAccessToken()).token;
    expect(await status(`${base}/clients/mqtt/hubs/chat?access_token=${defaultToken}`)).toBe(401);
    expect(await status(await mqttUrl(emulator), 'json.webpubsub.azure.v1')).toBe(400);
    expect(await status(await mqttUrl(emulator))).toBe(101);
    // The token as a Bearer header instead of the query.
    const mqttToken = (await service.getClientAccessToken({ clientProtocol: 'mqtt' })).token;
    const bearer = await new Promise<number>(resolve => {
      const ws = new WebSocket(`${base}/clients/mqtt/hubs/chat`, 'mqtt', {
        headers: { Authorization: `Bearer ${mqttToken}` },
      });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
    });
    expect(bearer).toBe(101);
    expect(await status(`${base}/clients/mqtt/hubs/9bad?access_token=${mqttToken}`)).toBe(400);
    expect(await status(`${base}/clients/mqtt/chat?access_token=${mqttToken}`)).toBe(404);
  });

  it('MQTT 5: a session with an expiry survives a lost connection: resumed with session present, QoS 1 messages kept', async () => {
    const url = await mqttUrl(emulator, { roles: ALL_ROLES });
    const options: IClientOptions = {
      protocolVersion: 5,
      clientId: 'persistent',
      clean: false,
      properties: { sessionExpiryInterval: 60 },
    };
    const first = await Device.connect(url, options);
    devices.push(first);
    // The expiry is capped at the emulator's window (FAST_TIMINGS: 2 s).
    expect(first.packets[0].properties?.sessionExpiryInterval).toBe(2);
    await first.client.subscribeAsync('kept', { qos: 1 });
    (first.client.stream as unknown as { destroy(): void }).destroy();
    await waitFor(() => logs.matching(/persistent network connection ended/).length === 1);
    await service.group('kept').sendToAll('while away', { contentType: 'text/plain' });
    const second = await Device.connect(url, options);
    devices.push(second);
    expect(second.packets[0].sessionPresent).toBe(true);
    await waitFor(() => second.on('kept').length === 1);
    expect(utf8(second.on('kept')[0].payload)).toBe('while away');
  });
});
