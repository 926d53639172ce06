/** The module options are invalid; the message names every field at fault. */
export class WebPubSubOptionsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid WebPubSubModule options: ${problems.join('; ')}`);
    this.name = 'WebPubSubOptionsError';
  }
}
