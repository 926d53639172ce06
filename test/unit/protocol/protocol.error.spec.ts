/**
 * `ProtocolError` carries a status and a message.
 */
import { ProtocolError } from '../../../lib/protocol/protocol.error.js';

describe('ProtocolError', () => {
  it('carries a status and a message', () => {
    const error = new ProtocolError(415, 'Unsupported Content-Type');
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.status).toBe(415);
    expect(error.message).toBe('Unsupported Content-Type');
    expect(error.name).toBe('ProtocolError');
    expect(String(error)).toBe('ProtocolError: Unsupported Content-Type');
  });
});
