/**
 * The protocol's constants: header names in lower case as Node delivers them, the six CloudEvents
 * attributes every event carries, CloudEvents 1.0, the service's event types under their common
 * prefix, connect and user events blocking and the rest not, the four user-event media types mapped
 * to their data types and back.
 */
import {
  BLOCKING_KINDS,
  ContentType,
  EVENT_TYPE_PREFIX,
  EventType,
  Header,
  REQUIRED_EVENT_HEADERS,
  SPEC_VERSION,
  USER_EVENT_MEDIA_TYPES,
} from '../../../lib/protocol/headers.js';

describe('protocol constants', () => {
  it('names every header in lower case, as Node delivers them', () => {
    for (const name of Object.values(Header)) expect(name).toBe(name.toLowerCase());
  });

  it('requires the six CloudEvents attributes every event carries', () => {
    expect([...REQUIRED_EVENT_HEADERS]).toEqual([
      'ce-specversion',
      'ce-type',
      'ce-id',
      'ce-hub',
      'ce-connectionid',
      'ce-eventname',
    ]);
  });

  it('speaks CloudEvents 1.0', () => {
    expect(SPEC_VERSION).toBe('1.0');
  });

  it('uses the event types of the service, all under the common prefix', () => {
    expect(EventType).toEqual({
      connect: 'azure.webpubsub.sys.connect',
      connected: 'azure.webpubsub.sys.connected',
      disconnected: 'azure.webpubsub.sys.disconnected',
      groupJoined: 'azure.webpubsub.gp.joined',
      groupLeft: 'azure.webpubsub.gp.left',
      userPrefix: 'azure.webpubsub.user.',
    });
    for (const type of Object.values(EventType))
      expect(type.startsWith(EVENT_TYPE_PREFIX)).toBe(true);
  });

  it('treats connect and user events as blocking, the rest as not', () => {
    expect([...BLOCKING_KINDS].sort()).toEqual(['connect', 'user']);
  });

  it('maps the four user-event media types to their data types and back', () => {
    expect(USER_EVENT_MEDIA_TYPES).toEqual({
      'text/plain': 'text',
      'application/json': 'json',
      'application/octet-stream': 'binary',
      'application/x-protobuf': 'protobuf',
    });
    expect(ContentType.text.startsWith('text/plain')).toBe(true);
    expect(ContentType.json.startsWith('application/json')).toBe(true);
    expect(ContentType.binary).toBe('application/octet-stream');
  });
});
