/**
 * `packAny` / `unpackAny`: the bytes equal protobufjs's encoding of `google.protobuf.Any` (Learn's
 * example included), empty fields are left out as proto3 does, unknown fields are skipped, and
 * bytes that are no `Any` are refused naming why.
 */
import protobuf from 'protobufjs';
import { packAny, unpackAny } from '../../../lib/protocol/protobuf-any.js';

const root = new protobuf.Root();
root.addJSON(protobuf.common.get('google/protobuf/any.proto')!.nested!);
const Any = root.lookupType('google.protobuf.Any');

describe('packAny / unpackAny', () => {
  it.each([
    ['Learn example', 'type.googleapis.com/azure.webpubsub.TestMessage', Buffer.from([8, 1])],
    ['a long value (two-byte lengths)', 't/x', Buffer.alloc(300, 7)],
    ['an empty value', 'type.googleapis.com/google.protobuf.Empty', Buffer.alloc(0)],
    ['no type url', '', Buffer.from([1])],
  ])('%s: the bytes protobufjs writes, and back', (_label, typeUrl, value) => {
    const packed = packAny(typeUrl, value);
    expect(packed).toEqual(
      Buffer.from(Any.encode(Any.create({ type_url: typeUrl, value })).finish()),
    );
    expect(unpackAny(packed)).toEqual({ typeUrl, value });
  });

  it('skips fields it does not know', () => {
    const withExtra = Buffer.concat([
      packAny('t/a', Buffer.from([5])),
      Buffer.from([0x18, 0x96, 0x01, 0x25, 1, 2, 3, 4, 0x29, 1, 2, 3, 4, 5, 6, 7, 8]),
    ]);
    expect(unpackAny(withExtra)).toEqual({ typeUrl: 't/a', value: Buffer.from([5]) });
  });

  it.each([
    ['a length past the end', Buffer.from([0x0a, 0x05, 0x61])],
    ['a truncated varint', Buffer.from([0x0a, 0x80])],
    ['a group wire type', Buffer.from([0x0b])],
  ])('refuses %s', (_label, bytes) => {
    expect(() => unpackAny(bytes)).toThrow(/Not a google\.protobuf\.Any/);
  });
});
