/**
 * `getWebPubSubServiceClientToken`: a readable string (`WEB_PUB_SUB_SERVICE_CLIENT(chat)`),
 * lower-cased per hub, the bare prefix for the default hub; an empty or non-string hub refused.
 * (test/smoke/ checks that the ESM and the CommonJS builds give the same string.)
 */
import { getWebPubSubServiceClientToken } from '../../../lib/index.js';

describe('getWebPubSubServiceClientToken', () => {
  it('is a readable string, lower-cased per hub, and the bare prefix for the default hub', () => {
    expect(getWebPubSubServiceClientToken('chat')).toBe('WEB_PUB_SUB_SERVICE_CLIENT(chat)');
    expect(getWebPubSubServiceClientToken('Chat_2')).toBe('WEB_PUB_SUB_SERVICE_CLIENT(chat_2)');
    expect(getWebPubSubServiceClientToken()).toBe('WEB_PUB_SUB_SERVICE_CLIENT');
    // A hub named "default" does not collide with the default hub's token.
    expect(getWebPubSubServiceClientToken('default')).not.toBe(getWebPubSubServiceClientToken());
  });

  it('refuses an empty or non-string hub', () => {
    expect(() => getWebPubSubServiceClientToken('')).toThrow(
      'getWebPubSubServiceClientToken(hub): hub must be a non-empty string',
    );
    expect(() => getWebPubSubServiceClientToken(42 as never)).toThrow(TypeError);
  });
});
