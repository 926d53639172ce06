// announcer.service.spec.ts
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { WebPubSubServiceClient } from '@azure/web-pubsub';
import {
  getWebPubSubServiceClientToken,
  InjectWebPubSubServiceClient,
  WebPubSubModule,
} from 'nestjs-web-pubsub';
import {
  createFakeWebPubSubServiceClient,
  verifyClientAccessToken,
} from 'nestjs-web-pubsub/testing';

@Injectable()
class Announcer {
  constructor(
    @InjectWebPubSubServiceClient('chat') private readonly client: WebPubSubServiceClient,
  ) {}

  async welcome(room: string, userId: string) {
    await this.client.group(room).sendToAll(`${userId} joined`, { contentType: 'text/plain' });
    return this.client.getClientAccessToken({ userId, groups: [room] });
  }
}

it('announces in the room and hands out a token for it', async () => {
  const fake = createFakeWebPubSubServiceClient({ hub: 'chat' });
  const moduleRef = await Test.createTestingModule({
    // No credentials needed: the fake takes the place of the hub's client.
    imports: [WebPubSubModule.forRoot({ hub: 'chat' })],
    providers: [Announcer],
  })
    .overrideProvider(getWebPubSubServiceClientToken('chat'))
    .useValue(fake)
    .compile();

  const { url } = await moduleRef.get(Announcer).welcome('blue', 'alice');

  expect(fake.sentToGroup('blue')).toEqual([
    { message: 'alice joined', options: { contentType: 'text/plain' } },
  ]);
  // Signed with the test access key, for this hub, not expired:
  expect(await verifyClientAccessToken(url, { hub: 'chat' })).toMatchObject({
    userId: 'alice',
    groups: ['blue'],
  });
  await moduleRef.close();
});
