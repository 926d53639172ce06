/**
 * The public API cannot change by accident: every name each entry point of package.json's
 * `exports` gives (values and types, read by the TypeScript compiler from the sources, re-exports
 * followed) is listed here, and the bin too. Adding, renaming or removing an export fails this
 * spec until the list says so; a new entry point fails until it has its list.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const API: Record<string, { values: string[]; types: string[] }> = {
  '.': {
    values: [
      'ASYNC_OPTIONS_TYPE',
      'DuplicateWebPubSubHandlerError',
      'EventContext',
      'EventData',
      'EventRequest',
      'InjectWebPubSubOptions',
      'InjectWebPubSubServiceClient',
      'InvalidWebPubSubHandlerError',
      'MemoryDeduplicationStore',
      'MqttConnectError',
      'MqttDisconnectReasonCode',
      'MqttV311ConnectReturnCode',
      'MqttV500ConnectReasonCode',
      'OPTIONS_TYPE',
      'OnConnect',
      'OnConnected',
      'OnDisconnected',
      'OnGroupJoined',
      'OnGroupLeft',
      'OnUserEvent',
      'OnWebPubSubEvent',
      'RedisDeduplicationStore',
      'UnknownWebPubSubHubError',
      'UserEventResponse',
      'WEB_PUBSUB_MODULE_OPTIONS',
      'WEB_PUBSUB_SERVICE_CLIENT',
      'WebPubSubConfigService',
      'WebPubSubModule',
      'WebPubSubOptionsError',
      'WebPubSubParamtype',
      'WebPubSubServiceClients',
      'WebPubSubWsAdapter',
      'getWebPubSubServiceClientToken',
      'isMqttConnectRequest',
      'isMqttDisconnectedRequest',
      'isMqttUserEventRequest',
      'packAny',
      'unpackAny',
      'userEventResponse',
    ],
    types: [
      'AccessKeyProviderFunction',
      'AccessKeys',
      'ConnectRequest',
      'ConnectResponse',
      'ConnectedRequest',
      'ConnectionContext',
      'ConnectionStates',
      'DeduplicationClaim',
      'DeduplicationOptions',
      'DisconnectedRequest',
      'EventKind',
      'GroupJoinedRequest',
      'GroupLeftRequest',
      'GroupPresenceRequest',
      'ManagedIdentityOptions',
      'MqttConnectProperties',
      'MqttConnectRequest',
      'MqttConnectionContext',
      'MqttDisconnectPacket',
      'MqttDisconnectedProperties',
      'MqttDisconnectedRequest',
      'MqttUserEventProperties',
      'MqttUserEventRequest',
      'MqttUserProperty',
      'ProtobufAny',
      'RedisClientLike',
      'RedisDeduplicationOptions',
      'StoredResponse',
      'UserEventData',
      'UserEventDataType',
      'UserEventRequest',
      'UserEventResponseOptions',
      'WebPubSubAccessKeyProvider',
      'WebPubSubBroadcast',
      'WebPubSubClientProtocol',
      'WebPubSubCredential',
      'WebPubSubDeduplicationStore',
      'WebPubSubExcludingBroadcast',
      'WebPubSubHandlerMetadata',
      'WebPubSubHandlerOptions',
      'WebPubSubMessage',
      'WebPubSubModuleExtras',
      'WebPubSubModuleOptions',
      'WebPubSubNegotiateContext',
      'WebPubSubNegotiateOptions',
      'WebPubSubNegotiateProtocol',
      'WebPubSubNegotiateResolver',
      'WebPubSubNegotiateResponse',
      'WebPubSubNegotiateResult',
      'WebPubSubServer',
      'WebPubSubServiceClientConfig',
      'WebPubSubServiceEndpointInfo',
      'WebPubSubSocket',
      'WebPubSubWsAdapterOptions',
    ],
  },
  './testing': {
    values: [
      'ClientAccessTokenError',
      'FakeWebPubSubServiceClient',
      'MqttDisconnectReasonCode',
      'MqttV311ConnectReturnCode',
      'MqttV500ConnectReasonCode',
      'TEST_ACCESS_KEY',
      'TEST_ENDPOINT',
      'TEST_HUB',
      'createAbuseProtectionRequest',
      'createConnectRequest',
      'createConnectedRequest',
      'createDisconnectedRequest',
      'createFakeWebPubSubServiceClient',
      'createGroupJoinedRequest',
      'createGroupLeftRequest',
      'createProtobufUserEventRequest',
      'createTestConnectionString',
      'createUserEventRequest',
      'decodeClientAccessToken',
      'decodeConnectionState',
      'encodeConnectionState',
      'packAny',
      'readAbuseProtectionResponse',
      'readConnectResponse',
      'readConnectionState',
      'readMqttError',
      'readUserEventResponse',
      'sendWithSupertest',
      'signWebPubSubRequest',
      'toInjectOptions',
      'toWireAnswer',
      'unpackAny',
      'verifyClientAccessToken',
    ],
    types: [
      'AbuseProtectionRequestOptions',
      'ConnectRequestOptions',
      'ConnectResult',
      'ConnectionStates',
      'DecodedClientAccessToken',
      'DisconnectedRequestOptions',
      'FakeConnection',
      'FakeSentMessage',
      'FakeServiceClientCall',
      'FakeWebPubSubServiceClientOptions',
      'GroupRequestOptions',
      'HandshakeResult',
      'MqttConnectRefusal',
      'MqttErrorResponse',
      'MqttUserProperty',
      'ProtobufAny',
      'ProtobufUserEventRequestOptions',
      'StateChange',
      'SupertestLikeAgent',
      'SupertestLikeTest',
      'TestConnectionStringOptions',
      'TestResponseLike',
      'UserEventRequestOptions',
      'UserEventResult',
      'VerifyClientAccessTokenOptions',
      'WebPubSubTestEventOptions',
      'WebPubSubTestRequest',
      'WireAnswer',
    ],
  },
  './emulator': {
    values: [
      'EMULATOR_ACCESS_KEY',
      'EMULATOR_DEFAULT_PORT',
      'EmulatorOptionsError',
      'startEmulator',
    ],
    types: [
      'EmulatorOptions',
      'EmulatorTimings',
      'EventHandlerSettings',
      'HubSettings',
      'RunningEmulator',
      'SystemEventName',
    ],
  },
  './socket.io': {
    values: [
      'DEFAULT_READY_TIMEOUT_MS',
      'WebPubSubSocketIoAdapter',
      'WebPubSubSocketIoStartupError',
    ],
    types: ['WebPubSubSocketIoAdapterOptions'],
  },
};

const BIN = { 'nestjs-web-pubsub-emulator': './dist/esm/bin/emulator.js' };

const root = join(import.meta.dirname ?? process.cwd(), '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** `.` → lib/index.ts, `./testing` → lib/testing/index.ts, `./socket.io` → lib/socket-io/index.ts. */
function source(entry: string): string {
  const folder = entry === '.' ? '' : entry.slice(2).replace('.', '-');
  return join(root, 'lib', folder, 'index.ts');
}

function exportedNames(
  entries: readonly string[],
): Record<string, { values: string[]; types: string[] }> {
  const program = ts.createProgram(entries.map(source), {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    experimentalDecorators: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const isValue = (symbol: ts.Symbol): boolean => {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    return (target.flags & ts.SymbolFlags.Value) !== 0;
  };
  return Object.fromEntries(
    entries.map(entry => {
      const file = program.getSourceFile(source(entry));
      if (!file) throw new Error(`${entry}: no source at ${source(entry)}`);
      const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(file)!);
      const names = (values: boolean) =>
        exported
          .filter(symbol => isValue(symbol) === values)
          .map(symbol => symbol.name)
          .sort();
      return [entry, { values: names(true), types: names(false) }];
    }),
  );
}

describe('the public API', () => {
  const entries = Object.keys(manifest.exports).filter(entry => entry !== './package.json');

  it('has a list for every entry point of package.json, and no list without its entry', () => {
    expect(entries.sort()).toEqual(Object.keys(API).sort());
  });

  it('exports exactly the listed names from each entry point', () => {
    expect(exportedNames(entries)).toEqual(API);
  }, 120_000);

  it('keeps the bin', () => {
    expect(manifest.bin).toEqual(BIN);
  });
});
