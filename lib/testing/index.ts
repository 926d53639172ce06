/**
 * `nestjs-web-pubsub/testing`: requests as the service sends them, readers for the answers, token
 * checks and an in-memory service client, built on the same protocol code the module verifies
 * with. Runner-agnostic: no jest, vitest, supertest or fastify import.
 */
export {
  TEST_ACCESS_KEY,
  TEST_ENDPOINT,
  TEST_HUB,
  createTestConnectionString,
  type TestConnectionStringOptions,
} from './test-credentials.js';
export {
  createAbuseProtectionRequest,
  createConnectRequest,
  createConnectedRequest,
  createDisconnectedRequest,
  createGroupJoinedRequest,
  createGroupLeftRequest,
  createProtobufUserEventRequest,
  createUserEventRequest,
  type AbuseProtectionRequestOptions,
  type ConnectRequestOptions,
  type DisconnectedRequestOptions,
  type GroupRequestOptions,
  type ProtobufUserEventRequestOptions,
  type UserEventRequestOptions,
  type WebPubSubTestEventOptions,
  type WebPubSubTestRequest,
} from './event-requests.js';
export {
  sendWithSupertest,
  toInjectOptions,
  type SupertestLikeAgent,
  type SupertestLikeTest,
  type TestResponseLike,
} from './http-clients.js';
export {
  readAbuseProtectionResponse,
  readConnectResponse,
  readConnectionState,
  readMqttError,
  readUserEventResponse,
  toWireAnswer,
  type MqttErrorResponse,
} from './response-readers.js';
export {
  ClientAccessTokenError,
  decodeClientAccessToken,
  verifyClientAccessToken,
  type DecodedClientAccessToken,
  type VerifyClientAccessTokenOptions,
} from './client-access-tokens.js';
export {
  FakeWebPubSubServiceClient,
  createFakeWebPubSubServiceClient,
  type FakeConnection,
  type FakeSentMessage,
  type FakeServiceClientCall,
  type FakeWebPubSubServiceClientOptions,
} from './fake-web-pubsub-service-client.js';
export { signatureHeader as signWebPubSubRequest } from '../protocol/signature.js';
export { decodeConnectionState, encodeConnectionState } from '../protocol/connection-state.js';
export type { ConnectionStates } from '../protocol/connection-state.js';
export { packAny, unpackAny, type ProtobufAny } from '../protocol/protobuf-any.js';
export type {
  ConnectResult,
  HandshakeResult,
  MqttConnectRefusal,
  StateChange,
  UserEventResult,
  WireAnswer,
} from '../protocol/response.reader.js';
export type { MqttUserProperty } from '../protocol/mqtt.js';
export {
  MqttV311ConnectReturnCode,
  MqttV500ConnectReasonCode,
  MqttDisconnectReasonCode,
} from '../protocol/mqtt.js';
