/**
 * A request the protocol layer refuses: carries the HTTP status to answer with and a message
 * that names the problem. It never carries secrets or stack traces to the response.
 */
export class ProtocolError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}
