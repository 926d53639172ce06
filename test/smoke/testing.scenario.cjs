// What `nestjs-web-pubsub/testing` must do once built, whichever module system loaded it: sign an
// event exactly as the service does (checked here with node:crypto, not with the package's code),
// record a fake client's calls, and sign and verify a client access token (jose, from the build).
// A build signing `sha256=0…` was seen failing it.
const assert = require('node:assert/strict');
const { createHmac } = require('node:crypto');

module.exports = async function testingScenario(api) {
  const request = api.createUserEventRequest({ connectionId: 'smoke-1', data: 'hi', dataType: 'text' });
  const headers = Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const expected = createHmac('sha256', api.TEST_ACCESS_KEY).update('smoke-1').digest('hex');
  assert.equal(headers['ce-signature'], `sha256=${expected}`, 'the event is signed with the test key');
  assert.equal(headers['ce-type'], 'azure.webpubsub.user.message');
  assert.equal(Buffer.from(request.payload).toString('utf8'), 'hi');

  const fake = api.createFakeWebPubSubServiceClient({ hub: 'chat' });
  await fake.group('room').sendToAll('hello', { contentType: 'text/plain' });
  assert.equal(fake.sentToGroup('room').length, 1, 'the fake client records the group send');

  const { url } = await fake.getClientAccessToken({ userId: 'alice', groups: ['room'] });
  const token = await api.verifyClientAccessToken(url, { hub: 'chat' });
  assert.equal(token.userId, 'alice');
  assert.deepEqual(token.groups, ['room']);
  await assert.rejects(api.verifyClientAccessToken(url, { hub: 'other' }), /audience|hub/i);
};
