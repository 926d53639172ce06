/** A decorated handler cannot be used as written (wrong hub, request-scoped host, ...). */
export class InvalidWebPubSubHandlerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidWebPubSubHandlerError';
  }
}
