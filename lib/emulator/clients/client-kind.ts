/**
 * What a connection's subprotocol makes of it: a simple client (no or a custom subprotocol), or a
 * PubSub client (JSON or protobuf) with the codec that reads and writes its frames, reliable or not.
 */
import { JSON_RELIABLE_SUBPROTOCOL, JSON_SUBPROTOCOL, jsonCodec } from './json-protocol.js';
import {
  PROTOBUF_RELIABLE_SUBPROTOCOL,
  PROTOBUF_SUBPROTOCOL,
  protobufCodec,
} from './protobuf-protocol.js';
import type { WireCodec } from './wire-codec.js';

/** What a subprotocol makes of a connection: a simple client, or a PubSub one with its codec. */
export interface ClientKind {
  /** `undefined` for a simple client (no or a custom subprotocol). */
  readonly codec: WireCodec | undefined;
  readonly reliable: boolean;
}

const KINDS: Readonly<Record<string, ClientKind>> = {
  [JSON_SUBPROTOCOL]: { codec: jsonCodec, reliable: false },
  [JSON_RELIABLE_SUBPROTOCOL]: { codec: jsonCodec, reliable: true },
  [PROTOBUF_SUBPROTOCOL]: { codec: protobufCodec, reliable: false },
  [PROTOBUF_RELIABLE_SUBPROTOCOL]: { codec: protobufCodec, reliable: true },
};

const SIMPLE: ClientKind = { codec: undefined, reliable: false };

export function clientKind(subprotocol: string | undefined): ClientKind {
  return (subprotocol !== undefined && KINDS[subprotocol]) || SIMPLE;
}
