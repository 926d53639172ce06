/** Two handlers claim the same blocking event (connect, or one user event) on the same hub. */
export class DuplicateWebPubSubHandlerError extends Error {
  constructor(
    readonly event: string,
    readonly hub: string | undefined,
    readonly handlers: readonly [string, string],
  ) {
    super(
      `Two handlers for ${event}${hub ? ` on hub "${hub}"` : ''}: ${handlers[0]} and ${handlers[1]}. ` +
        'The service waits for one answer to a blocking event, so only one handler may answer it.',
    );
    this.name = 'DuplicateWebPubSubHandlerError';
  }
}
