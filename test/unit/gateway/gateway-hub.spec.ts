/**
 * The sockets of one gateway hub (`GatewayHub`) between events: a socket outlives every event of
 * its connection, so once an event is answered it keeps only what the socket reports (the user id
 * and the connection state the event left), never the event itself (context, headers, body):
 * after a garbage collection the answered event is gone, and the socket still says the latest
 * user id and state, the changed state included. Beyond `maxSockets` the socket not active lately
 * is forgotten (its next event creates a socket again, so `handleConnection` runs again), an
 * active one is kept, and the newest never goes.
 */
import { Logger } from '@nestjs/common';
import { InFlightTracker } from '../../../lib/events/in-flight.tracker.js';
import { WebPubSubConnectionContext } from '../../../lib/events/web-pubsub-connection-context.js';
import { GatewayHub } from '../../../lib/gateway/gateway-hub.js';
import type { GatewaySocket } from '../../../lib/gateway/web-pubsub-socket.js';
import type { UserEventRequest } from '../../../lib/interfaces/web-pubsub-request.interface.js';
import type { EventHeaders } from '../../../lib/protocol/cloud-event.reader.js';
import { encodeConnectionState } from '../../../lib/protocol/connection-state.js';
import { collectGarbage } from '../../utils/leaks.js';

interface EventOptions {
  readonly userId?: string;
  readonly states?: Record<string, unknown>;
  readonly data?: Buffer;
}

function userEvent(connectionId: string, options: EventOptions = {}): UserEventRequest {
  const headers: EventHeaders = {
    kind: 'user',
    type: 'azure.webpubsub.user.message',
    eventName: 'message',
    specVersion: '1.0',
    id: `${connectionId}-${Math.random()}`,
    hub: 'chat',
    connectionId,
    userId: options.userId,
    connectionState: options.states ? encodeConnectionState(options.states) : undefined,
    clientProtocol: 'default',
    dataType: 'binary',
  };
  const context = new WebPubSubConnectionContext(headers);
  const data = options.data ?? Buffer.from('hello');
  context.data = data;
  return { context, dataType: 'binary', data } as UserEventRequest;
}

function hubWith(
  handler: (socket: GatewaySocket, data: unknown) => unknown,
  maxSockets = 100,
): { hub: GatewayHub; connections: string[] } {
  const hub = new GatewayHub({
    hub: 'chat',
    serviceClient: () => {
      throw new Error('no service in this spec');
    },
    inFlight: new InFlightTracker(),
    logger: new Logger('gateway-hub.spec'),
    maxSockets,
    ackTimeoutMs: 0,
  });
  const connections: string[] = [];
  hub.onConnection(socket => connections.push(`${socket.id}:${String(socket.userId)}`));
  hub.direct('message', handler);
  return { hub, connections };
}

describe('GatewayHub sockets between events', () => {
  it('keep the user id and state of the latest event, and nothing of the event itself', async () => {
    let held: GatewaySocket | undefined;
    let answered = 0;
    const { hub, connections } = hubWith((socket, data) => {
      held = socket;
      answered++;
      if ((data as Buffer).toString() === 'count') {
        socket.setState('count', Number(socket.states.count ?? 0) + 1);
      }
      return data;
    });

    let request: UserEventRequest | undefined = userEvent('c1', {
      userId: 'alice',
      states: { count: 1 },
      data: Buffer.from('x'.repeat(64 * 1024)),
    });
    const context = new WeakRef(request.context);
    const body = new WeakRef(request.data as Buffer);
    expect(hub.message(request, 'message')).toBe(request.data);
    request = undefined;
    await collectGarbage();
    expect(context.deref()).toBeUndefined();
    expect(body.deref()).toBeUndefined();
    const socket = held as GatewaySocket;
    expect(connections).toEqual(['c1:alice']);
    expect(socket.userId).toBe('alice');
    expect(socket.states).toEqual({ count: 1 });

    // A handler's change of the state stays visible until the next event brings the state back.
    hub.message(userEvent('c1', { userId: 'alice', data: Buffer.from('count') }), 'message');
    await collectGarbage();
    expect(socket.states).toEqual({ count: 1 });
    hub.message(
      userEvent('c1', { userId: 'alice', states: { count: 1 }, data: Buffer.from('count') }),
      'message',
    );
    expect(socket.states).toEqual({ count: 2 });

    // The next event's user id and state replace the kept ones.
    hub.message(userEvent('c1', { userId: 'bob', states: { count: 5 } }), 'message');
    expect(socket.userId).toBe('bob');
    expect(socket.states).toEqual({ count: 5 });
    hub.message(userEvent('c1'), 'message');
    expect(socket.userId).toBeUndefined();
    expect(socket.states).toEqual({});
    expect(held).toBe(socket);
    expect(connections).toEqual(['c1:alice']);
    expect(answered).toBe(5);
    // Full collections of a long-lived Jest worker's heap: tens of seconds on a loaded machine.
  }, 120_000);

  it('setState() works only while an event of the connection is answered', async () => {
    let held: GatewaySocket | undefined;
    const { hub } = hubWith(socket => {
      held = socket;
      return new Promise(resolve => setImmediate(() => resolve('later')));
    });
    const answer = hub.message(userEvent('c1', { userId: 'alice' }), 'message');
    const socket = held as GatewaySocket;
    socket.setState('during', true);
    await expect(answer).resolves.toBe('later');
    expect(() => socket.setState('after', true)).toThrow(/only while a message/);
    expect(socket.states).toEqual({ during: true });
  });
});

describe('GatewayHub beyond maxSockets', () => {
  it('forgets the socket not active lately; an active one and the newest stay', () => {
    const { hub, connections } = hubWith(() => undefined, 2);
    const event = (id: string): void => void hub.message(userEvent(id, { userId: id }), 'message');
    event('c1');
    event('c2');
    event('c1');
    event('c3'); // c2 goes: c1 was active since
    event('c1');
    expect(connections).toEqual(['c1:c1', 'c2:c2', 'c3:c3']);
    event('c2'); // a new socket for c2; c3 goes (c1 was active since)
    expect(connections).toEqual(['c1:c1', 'c2:c2', 'c3:c3', 'c2:c2']);
    event('c1');
    event('c2');
    expect(connections).toHaveLength(4);
    event('c3'); // c1 goes: the least recently active
    event('c2');
    expect(connections).toHaveLength(5);
    event('c1');
    expect(connections).toEqual(['c1:c1', 'c2:c2', 'c3:c3', 'c2:c2', 'c3:c3', 'c1:c1']);
  });
});
