/**
 * `HubRegistry`, the state behind the client endpoint and the REST data plane: hub names
 * case-insensitive and configured hubs listed; sends to all, a user, a connection and a group with
 * `excluded` and `filter`; a user's groups remembered for the user's later connections and
 * forgotten on removal; connections added and removed by filter, unknown connections reported,
 * closes with a reason; permissions from roles, REST grants and revocations (a literal revoke beats
 * a role); wildcard group roles (`*`, `**`, `?`, `\`) as the service documents them.
 */
import type { OutboundMessage } from '../../../lib/emulator/state/hub-operations.js';
import {
  Connection,
  HubRegistry,
  wildcardMatches,
  type ClientDelivery,
  type ClientSink,
} from '../../../lib/emulator/state/hubs.js';

class RecordingSink implements ClientSink {
  readonly delivered: ClientDelivery[] = [];
  closedWith: (string | undefined)[] = [];
  deliver(delivery: ClientDelivery): void {
    this.delivered.push(delivery);
  }
  close(reason: string | undefined): void {
    this.closedWith.push(reason);
  }
}

const text = (value: string): OutboundMessage => ({ dataType: 'text', data: Buffer.from(value) });

function connect(
  registry: HubRegistry,
  hub: string,
  id: string,
  userId?: string,
  roles: string[] = [],
  groups: string[] = [],
) {
  const sink = new RecordingSink();
  const connection = new Connection(hub, id, userId, roles, undefined, sink);
  registry.add(connection, groups);
  return { connection, sink };
}

describe('HubRegistry (the state behind the client endpoint and the REST data plane)', () => {
  it('treats hub names case-insensitively and lists configured hubs', () => {
    const registry = new HubRegistry(['Chat']);
    const a = connect(registry, 'CHAT', 'a', 'u1', [], ['g']);
    expect(registry.hubNames()).toEqual(['Chat']);
    expect(registry.connectionExists('chat', 'a')).toBe(true);
    expect(registry.userExists('cHaT', 'u1')).toBe(true);
    expect(registry.groupExists('chat', 'g')).toBe(true);
    registry.sendToGroup('Chat', 'g', text('hi'));
    expect(a.sink.delivered).toEqual([{ from: 'group', group: 'g', message: text('hi') }]);
  });

  it('sends to all, a user, a connection and a group, honouring excluded and filter', () => {
    const registry = new HubRegistry();
    const a = connect(registry, 'chat', 'a', 'u1', [], ['g']);
    const b = connect(registry, 'chat', 'b', 'u1');
    const c = connect(registry, 'chat', 'c', 'u2', [], ['g']);
    registry.sendToAll('chat', text('all'), { excluded: ['b'] });
    registry.sendToUser('chat', 'u1', text('user'), { filter: view => view.connectionId !== 'a' });
    registry.sendToConnection('chat', 'c', text('one'));
    registry.sendToGroup('chat', 'g', text('group'), { filter: view => view.userId === 'u2' });
    registry.sendToConnection('chat', 'missing', text('nobody'));
    const data = (sink: RecordingSink) => sink.delivered.map(d => d.message.data.toString());
    expect(data(a.sink)).toEqual(['all']);
    expect(data(b.sink)).toEqual(['user']);
    expect(data(c.sink)).toEqual(['all', 'one', 'group']);
  });

  it("remembers a user added to a group for the user's later connections, and forgets it on removal", () => {
    const registry = new HubRegistry();
    const first = connect(registry, 'chat', 'a', 'u1');
    registry.addUserToGroup('chat', 'team', 'u1');
    expect(first.connection.groups.has('team')).toBe(true);
    const later = connect(registry, 'chat', 'b', 'u1');
    expect(later.connection.groups.has('team')).toBe(true);
    registry.removeUserFromGroup('chat', 'team', 'u1');
    expect(registry.groupExists('chat', 'team')).toBe(false);
    const after = connect(registry, 'chat', 'c', 'u1');
    expect(after.connection.groups.has('team')).toBe(false);
  });

  it('adds and removes connections by filter, reports unknown connections, closes with a reason', () => {
    const registry = new HubRegistry();
    const a = connect(registry, 'chat', 'a', 'u1');
    const b = connect(registry, 'chat', 'b', 'u2');
    expect(registry.addConnectionToGroup('chat', 'g', 'nobody')).toBe(false);
    registry.addConnectionsToGroups('chat', ['x', 'y'], view => view.userId === 'u2');
    expect([...b.connection.groups]).toEqual(['x', 'y']);
    expect(a.connection.groups.size).toBe(0);
    registry.removeConnectionsFromGroups('chat', ['x']);
    expect([...b.connection.groups]).toEqual(['y']);
    registry.closeAllConnections('chat', { excluded: ['a'], reason: 'bye' });
    expect(a.sink.closedWith).toEqual([]);
    expect(b.sink.closedWith).toEqual(['bye']);
    registry.remove(b.connection);
    expect(registry.groupExists('chat', 'y')).toBe(false);
    expect(registry.userExists('chat', 'u2')).toBe(false);
  });

  it('checks permissions from roles, REST grants and revocations (a literal revoke beats a role)', () => {
    const registry = new HubRegistry();
    const { connection } = connect(registry, 'chat', 'a', 'u1', [
      'webpubsub.joinLeaveGroup',
      'webpubsub.sendToGroup.news',
    ]);
    expect(connection.can('joinLeaveGroup', 'any')).toBe(true);
    expect(connection.can('sendToGroup', 'news')).toBe(true);
    expect(connection.can('sendToGroup', 'other')).toBe(false);
    expect(registry.hasPermission('chat', 'a', 'sendToGroup')).toBe(false);
    expect(registry.hasPermission('chat', 'a', 'sendToGroup', 'news')).toBe(true);
    registry.revokePermission('chat', 'a', 'joinLeaveGroup', 'secret');
    expect(connection.can('joinLeaveGroup', 'secret')).toBe(false);
    expect(connection.can('joinLeaveGroup', 'public')).toBe(true);
    expect(registry.grantPermission('chat', 'a', 'sendToGroup', 'other')).toBe(true);
    expect(connection.can('sendToGroup', 'other')).toBe(true);
    registry.revokePermission('chat', 'a', 'sendToGroup');
    expect(connection.can('sendToGroup', 'other')).toBe(false);
    expect(connection.can('sendToGroup', 'news')).toBe(false);
    expect(registry.grantPermission('chat', 'missing', 'sendToGroup')).toBe(false);
  });

  it('matches wildcard group roles as the service documents them', () => {
    expect(wildcardMatches('chat.*', 'chat.room1')).toBe(true);
    expect(wildcardMatches('chat.*', 'chat.room1.sub')).toBe(false);
    expect(wildcardMatches('chat.**', 'chat.room1.sub')).toBe(true);
    expect(wildcardMatches('room?', 'room1')).toBe(true);
    expect(wildcardMatches('room?', 'room.')).toBe(false);
    expect(wildcardMatches('a\\*b', 'a*b')).toBe(true);
    expect(wildcardMatches('a\\*b', 'axb')).toBe(false);
    expect(wildcardMatches('Chat.*', 'chat.x')).toBe(false);
    const registry = new HubRegistry();
    const { connection } = connect(registry, 'chat', 'a', undefined, [
      'webpubsub.joinLeaveGroups.team.*',
    ]);
    expect(connection.can('joinLeaveGroup', 'team.red')).toBe(true);
    expect(connection.can('joinLeaveGroup', 'other.red')).toBe(false);
  });
});
