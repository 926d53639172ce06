/**
 * `FakeWebPubSubServiceClient` and `verifyClientAccessToken` from `nestjs-web-pubsub/testing`: the
 * fake has every public method and property of the SDK's `WebPubSubServiceClient` and of its
 * groups; it records sends to all, users, connections and groups, in order, with their options; it
 * answers existence and membership questions from the connections the test declares; it rejects the
 * next call of a method when told to, once; its `getClientAccessToken` signs a real token whose
 * audience the SDK's matches and that `verifyClientAccessToken` accepts; it stands in for the SDK
 * client in a Nest app through `overrideProvider`. `verifyClientAccessToken` accepts the SDK's
 * token for its hub and returns the decoded claims, and refuses another key, hub, client endpoint,
 * an expired token and a token moved to another URL.
 */
import { Inject, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import {
  ClientAccessTokenError,
  createFakeWebPubSubServiceClient,
  createTestConnectionString,
  decodeClientAccessToken,
  FakeWebPubSubServiceClient,
  verifyClientAccessToken,
} from '../../lib/testing/index.js';

describe('FakeWebPubSubServiceClient', () => {
  it('has every public method and property of WebPubSubServiceClient, and of its groups', () => {
    const real = new WebPubSubServiceClient(createTestConnectionString(), 'chat');
    const fake = createFakeWebPubSubServiceClient();
    const methods = (object: object) =>
      Object.getOwnPropertyNames(Object.getPrototypeOf(object)).filter(
        name => name !== 'constructor' && typeof (object as any)[name] === 'function',
      );
    for (const name of methods(real)) expect(typeof (fake as any)[name]).toBe('function');
    for (const name of methods(real.group('g'))) {
      expect(typeof (fake.group('g') as any)[name]).toBe('function');
    }
    expect(fake.hubName).toBe(real.hubName);
    expect(fake.apiVersion).toBe(real.apiVersion);
    expect(fake.endpoint).toBe(real.endpoint);
    expect(fake.group('g')).toMatchObject({ groupName: 'g', hubName: 'chat' });
  });

  it('records sends to all, users, connections and groups, in order, with their options', async () => {
    const fake = createFakeWebPubSubServiceClient({ hub: 'chat' });
    await fake.sendToAll({ hello: 'all' });
    await fake.sendToUser('alice', 'hi alice', { contentType: 'text/plain' });
    await fake.sendToConnection('c1', Buffer.from([1]));
    await fake.group('room').sendToAll('hi room', { contentType: 'text/plain' });
    expect(fake.sentToAll()).toEqual([{ message: { hello: 'all' } }]);
    expect(fake.sentToUser('alice')).toEqual([
      { userId: 'alice', message: 'hi alice', options: { contentType: 'text/plain' } },
    ]);
    expect(fake.sentToConnection()).toEqual([{ connectionId: 'c1', message: Buffer.from([1]) }]);
    expect(fake.sentToGroup('room')).toEqual([
      { message: 'hi room', options: { contentType: 'text/plain' } },
    ]);
    expect(fake.calls.map(call => [call.method, call.group])).toEqual([
      ['sendToAll', undefined],
      ['sendToUser', undefined],
      ['sendToConnection', undefined],
      ['sendToAll', 'room'],
    ]);
    fake.reset();
    expect(fake.calls).toEqual([]);
  });

  it('answers existence and membership questions from the connections the test declares', async () => {
    const fake = createFakeWebPubSubServiceClient()
      .addTestConnection('c1', 'alice')
      .addTestConnection('c2', 'bob');
    expect(await fake.connectionExists('c1')).toBe(true);
    expect(await fake.connectionExists('nope')).toBe(false);
    expect(await fake.groupExists('room')).toBe(false);
    await fake.group('room').addConnection('c1');
    await fake.group('room').addUser('bob');
    expect(await fake.groupExists('room')).toBe(true);
    const members = [];
    for await (const member of await fake.group('room').listConnections()) members.push(member);
    expect(members).toEqual([
      { connectionId: 'c1', userId: 'alice' },
      { connectionId: 'c2', userId: 'bob' },
    ]);
    await fake.group('room').removeUser('bob');
    expect([...(fake.connections.get('c2')?.groups ?? [])]).toEqual([]);
    await fake.closeUserConnections('alice');
    expect(await fake.userExists('alice')).toBe(false);
    expect(await fake.userExists('bob')).toBe(true);
    await fake.grantPermission('c2', 'sendToGroup', { targetName: 'room' });
    expect(await fake.hasPermission('c2', 'sendToGroup', { targetName: 'room' })).toBe(true);
    expect(await fake.hasPermission('c2', 'sendToGroup', { targetName: 'other' })).toBe(false);
    await fake.revokePermission('c2', 'sendToGroup', { targetName: 'room' });
    expect(await fake.hasPermission('c2', 'sendToGroup', { targetName: 'room' })).toBe(false);
  });

  it('rejects the next call of a method when told to, once', async () => {
    const fake = createFakeWebPubSubServiceClient().failNextCall('sendToAll', new Error('503'));
    await expect(fake.sendToAll('x')).rejects.toThrow('503');
    await expect(fake.sendToAll('y')).resolves.toBeUndefined();
    expect(fake.callsOf('sendToAll')).toHaveLength(2);
  });

  it('getClientAccessToken signs a real token, like the SDK, that verifyClientAccessToken accepts', async () => {
    const fake = createFakeWebPubSubServiceClient({ hub: 'chat' });
    const ours = await fake.getClientAccessToken({
      userId: 'alice',
      groups: ['room'],
      roles: ['r'],
    });
    const sdk = await new WebPubSubServiceClient(
      createTestConnectionString(),
      'chat',
    ).getClientAccessToken({
      userId: 'alice',
      groups: ['room'],
      roles: ['r'],
    });
    expect(ours.baseUrl).toBe(sdk.baseUrl);
    const verified = await verifyClientAccessToken(ours.url, { hub: 'chat' });
    expect(verified).toMatchObject({ userId: 'alice', groups: ['room'], roles: ['r'] });
    expect(decodeClientAccessToken(ours.url).claims).toMatchObject({
      aud: decodeClientAccessToken(sdk.token).audience,
    });
    expect(fake.callsOf('getClientAccessToken')[0].args).toEqual([
      { userId: 'alice', groups: ['room'], roles: ['r'] },
    ]);
  });

  it('stands in for the SDK client in a Nest app (overrideProvider)', async () => {
    const CLIENT = 'CHAT_SERVICE_CLIENT';
    @Injectable()
    class Announcer {
      constructor(@Inject(CLIENT) private readonly client: WebPubSubServiceClient) {}
      announce(room: string, text: string) {
        return this.client.group(room).sendToAll(text, { contentType: 'text/plain' });
      }
    }
    @Module({
      providers: [
        {
          provide: CLIENT,
          useFactory: () => new WebPubSubServiceClient(createTestConnectionString(), 'chat'),
        },
        Announcer,
      ],
    })
    class AppModule {}
    const fake = createFakeWebPubSubServiceClient();
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(CLIENT)
      .useValue(fake)
      .compile();
    await moduleRef.get(Announcer).announce('room', 'hello');
    expect(fake.sentToGroup('room')).toEqual([
      { message: 'hello', options: { contentType: 'text/plain' } },
    ]);
    expect(fake).toBeInstanceOf(FakeWebPubSubServiceClient);
    expect(fake.asServiceClient()).toBe(fake);
  });
});

describe('verifyClientAccessToken', () => {
  const sdk = new WebPubSubServiceClient(createTestConnectionString(), 'chat');

  it('accepts the SDK token for its hub and returns the decoded claims', async () => {
    const { url, token } = await sdk.getClientAccessToken({
      userId: 'bob',
      expirationTimeInMinutes: 5,
    });
    const decoded = await verifyClientAccessToken(url, { hub: 'chat' });
    expect(decoded.userId).toBe('bob');
    expect(await verifyClientAccessToken(token, { hub: 'Chat' })).toMatchObject({ userId: 'bob' });
  });

  it.each([
    ['another key', { accessKey: 'not-the-key' }, 'bad-signature'],
    ['another hub', { hub: 'other' }, 'wrong-audience'],
    ['an MQTT audience', { hub: 'chat', clientProtocol: 'mqtt' as const }, 'wrong-audience'],
    ['a later time', { now: new Date(Date.now() + 3 * 3600_000) }, 'expired'],
  ])('throws naming the reason for %s', async (_name, options, reason) => {
    const { url } = await sdk.getClientAccessToken({ userId: 'bob' });
    const error = await verifyClientAccessToken(url, options).catch(e => e);
    expect(error).toBeInstanceOf(ClientAccessTokenError);
    expect(error.reason).toBe(reason);
  });

  it('checks a URL against its own endpoint and hub: a token moved to another URL is refused', async () => {
    const { token } = await sdk.getClientAccessToken({ userId: 'bob' });
    await expect(
      verifyClientAccessToken(`ws://localhost/client/hubs/admin?access_token=${token}`),
    ).rejects.toThrow(/another audience: expected ws:\/\/localhost\/client\/hubs\/admin/);
  });
});
