/**
 * `WebPubSubHandlerRegistry`, where handlers are found per hub and event: blocking events (connect,
 * user events) have one handler per hub, a second one refused naming both (and the hub or the
 * event), a hub-specific handler winning over an unrestricted one in either order, user events kept
 * apart by name (case-sensitive) and from system events; non-blocking events accumulate handlers in
 * registration order, filtered by hub with the unrestricted ones kept, `connected` and
 * `disconnected` apart, never found as blocking ones nor the reverse.
 */
import { DuplicateWebPubSubHandlerError } from '../../../lib/errors/duplicate-web-pubsub-handler.error.js';
import type { WebPubSubHandlerMetadata } from '../../../lib/interfaces/web-pubsub-handler-metadata.interface.js';
import { WebPubSubHandlerRegistry } from '../../../lib/events/web-pubsub-handler.registry.js';

const handler = (name: string) => ({
  name,
  call: (request: unknown) => `${name}:${String(request)}`,
});
const connect = (hub?: string): WebPubSubHandlerMetadata => ({
  kind: 'connect',
  event: 'connect',
  hub,
});
const user = (event: string, hub?: string): WebPubSubHandlerMetadata => ({
  kind: 'user',
  event,
  hub,
});
const connected = (hub?: string): WebPubSubHandlerMetadata => ({
  kind: 'connected',
  event: 'connected',
  hub,
});
const disconnected = (hub?: string): WebPubSubHandlerMetadata => ({
  kind: 'disconnected',
  event: 'disconnected',
  hub,
});

function duplicateError(fn: () => void): DuplicateWebPubSubHandlerError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DuplicateWebPubSubHandlerError);
    return error as DuplicateWebPubSubHandlerError;
  }
  throw new Error('expected a DuplicateWebPubSubHandlerError');
}

describe('WebPubSubHandlerRegistry', () => {
  let registry: WebPubSubHandlerRegistry;

  beforeEach(() => {
    registry = new WebPubSubHandlerRegistry();
  });

  it('starts empty', () => {
    expect(registry.size).toBe(0);
    expect(registry.blockingHandler('connect', 'connect', 'chat')).toBeUndefined();
    expect(registry.blockingHandler('user', 'message', 'chat')).toBeUndefined();
    expect(registry.nonBlockingHandlers('connected', 'connected', 'chat')).toEqual([]);
  });

  describe('blocking events', () => {
    it('finds the unrestricted connect handler on every hub', () => {
      registry.add(connect(), handler('Chat.onConnect'));
      const found = registry.blockingHandler('connect', 'connect', 'chat');
      expect(found?.name).toBe('Chat.onConnect');
      expect(found?.hub).toBeUndefined();
      expect(found?.call('req', {})).toBe('Chat.onConnect:req');
      expect(registry.blockingHandler('connect', 'connect', 'other')?.name).toBe('Chat.onConnect');
      expect(registry.size).toBe(1);
    });

    it('refuses a second unrestricted connect handler, naming both', () => {
      registry.add(connect(), handler('A.onConnect'));
      const error = duplicateError(() => registry.add(connect(), handler('B.onConnect')));
      expect(error.handlers).toEqual(['A.onConnect', 'B.onConnect']);
      expect(error.event).toBe('connect');
      expect(error.hub).toBeUndefined();
      expect(error.message).toContain('A.onConnect');
      expect(error.message).toContain('B.onConnect');
      expect(error.message).toMatch(/^Two handlers for connect: A\.onConnect and B\.onConnect\./);
      expect(error.name).toBe('DuplicateWebPubSubHandlerError');
      expect(registry.size).toBe(1);
      expect(registry.blockingHandler('connect', 'connect', 'chat')?.name).toBe('A.onConnect');
    });

    it('refuses two connect handlers for the same hub, whatever the case, naming the hub', () => {
      registry.add(connect('chat'), handler('A.onConnect'));
      const error = duplicateError(() => registry.add(connect('Chat'), handler('B.onConnect')));
      expect(error.handlers).toEqual(['A.onConnect', 'B.onConnect']);
      expect(error.message).toContain('on hub "Chat"');
      expect(error.message).toContain('A.onConnect and B.onConnect');
    });

    it('refuses two handlers of the same user event, naming the event and both handlers', () => {
      registry.add(user('message'), handler('A.onMessage'));
      const error = duplicateError(() => registry.add(user('message'), handler('B.onMessage')));
      expect(error.event).toBe('user event "message"');
      expect(error.message).toContain('user event "message"');
      expect(error.message).toContain('A.onMessage and B.onMessage');
    });

    it('lets a hub-specific handler win over an unrestricted one, in either registration order', () => {
      registry.add(connect(), handler('Any.onConnect'));
      registry.add(connect('Chat'), handler('Chat.onConnect'));
      expect(registry.blockingHandler('connect', 'connect', 'chat')?.name).toBe('Chat.onConnect');
      expect(registry.blockingHandler('connect', 'connect', 'chat')?.hub).toBe('chat');
      expect(registry.blockingHandler('connect', 'connect', 'news')?.name).toBe('Any.onConnect');

      const reversed = new WebPubSubHandlerRegistry();
      reversed.add(user('message', 'chat'), handler('Chat.onMessage'));
      reversed.add(user('message'), handler('Any.onMessage'));
      expect(reversed.blockingHandler('user', 'message', 'chat')?.name).toBe('Chat.onMessage');
      expect(reversed.blockingHandler('user', 'message', 'news')?.name).toBe('Any.onMessage');
      expect(reversed.size).toBe(2);
    });

    it('allows one handler per hub for different hubs', () => {
      registry.add(connect('chat'), handler('Chat.onConnect'));
      registry.add(connect('news'), handler('News.onConnect'));
      expect(registry.blockingHandler('connect', 'connect', 'chat')?.name).toBe('Chat.onConnect');
      expect(registry.blockingHandler('connect', 'connect', 'news')?.name).toBe('News.onConnect');
      expect(registry.blockingHandler('connect', 'connect', 'other')).toBeUndefined();
      expect(registry.size).toBe(2);
    });

    it('expects the hub to look up in lower case', () => {
      registry.add(connect('Chat'), handler('Chat.onConnect'));
      expect(registry.blockingHandler('connect', 'connect', 'chat')?.name).toBe('Chat.onConnect');
    });

    it('keeps user events apart by name (case-sensitive) and apart from system events', () => {
      registry.add(user('message'), handler('A.onMessage'));
      registry.add(user('Message'), handler('A.onMessageUpper'));
      registry.add(user('connect'), handler('A.onUserConnect'));
      registry.add(connect(), handler('A.onConnect'));
      expect(registry.blockingHandler('user', 'message', 'chat')?.name).toBe('A.onMessage');
      expect(registry.blockingHandler('user', 'Message', 'chat')?.name).toBe('A.onMessageUpper');
      expect(registry.blockingHandler('user', 'connect', 'chat')?.name).toBe('A.onUserConnect');
      expect(registry.blockingHandler('connect', 'connect', 'chat')?.name).toBe('A.onConnect');
      expect(registry.blockingHandler('user', 'other', 'chat')).toBeUndefined();
      expect(registry.size).toBe(4);
    });
  });

  describe('non-blocking events', () => {
    it('accumulates several handlers in registration order', () => {
      registry.add(connected(), handler('A.onConnected'));
      registry.add(connected(), handler('B.onConnected'));
      registry.add(connected(), handler('C.onConnected'));
      expect(
        registry.nonBlockingHandlers('connected', 'connected', 'chat').map(h => h.name),
      ).toEqual(['A.onConnected', 'B.onConnected', 'C.onConnected']);
      expect(registry.size).toBe(3);
    });

    it('filters hub-restricted handlers by hub, keeping the unrestricted ones and the order', () => {
      registry.add(disconnected(), handler('Any.first'));
      registry.add(disconnected('Chat'), handler('Chat.onDisconnected'));
      registry.add(disconnected('news'), handler('News.onDisconnected'));
      registry.add(disconnected(), handler('Any.last'));
      expect(
        registry.nonBlockingHandlers('disconnected', 'disconnected', 'chat').map(h => h.name),
      ).toEqual(['Any.first', 'Chat.onDisconnected', 'Any.last']);
      expect(
        registry.nonBlockingHandlers('disconnected', 'disconnected', 'news').map(h => h.name),
      ).toEqual(['Any.first', 'News.onDisconnected', 'Any.last']);
      expect(
        registry.nonBlockingHandlers('disconnected', 'disconnected', 'other').map(h => h.name),
      ).toEqual(['Any.first', 'Any.last']);
    });

    it('returns nothing for a hub no restricted handler serves', () => {
      registry.add(connected('chat'), handler('Chat.onConnected'));
      expect(registry.nonBlockingHandlers('connected', 'connected', 'news')).toEqual([]);
      expect(
        registry.nonBlockingHandlers('connected', 'connected', 'chat').map(h => h.name),
      ).toEqual(['Chat.onConnected']);
    });

    it('keeps connected and disconnected handlers apart', () => {
      registry.add(connected(), handler('A.onConnected'));
      registry.add(disconnected(), handler('A.onDisconnected'));
      expect(
        registry.nonBlockingHandlers('connected', 'connected', 'chat').map(h => h.name),
      ).toEqual(['A.onConnected']);
      expect(
        registry.nonBlockingHandlers('disconnected', 'disconnected', 'chat').map(h => h.name),
      ).toEqual(['A.onDisconnected']);
    });

    it('does not find non-blocking handlers as blocking ones, nor the reverse', () => {
      registry.add(connected(), handler('A.onConnected'));
      registry.add(connect(), handler('A.onConnect'));
      expect(registry.blockingHandler('connected', 'connected', 'chat')).toBeUndefined();
      expect(registry.nonBlockingHandlers('connect', 'connect', 'chat')).toEqual([]);
    });

    it('accepts several handlers restricted to the same hub', () => {
      registry.add(connected('chat'), handler('A.onConnected'));
      registry.add(connected('CHAT'), handler('B.onConnected'));
      expect(
        registry.nonBlockingHandlers('connected', 'connected', 'chat').map(h => h.name),
      ).toEqual(['A.onConnected', 'B.onConnected']);
    });
  });
});
