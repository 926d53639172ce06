/** A service client (or negotiate token) was asked for a hub the module does not serve. */
export class UnknownWebPubSubHubError extends Error {
  constructor(
    readonly hub: string,
    readonly configuredHubs: readonly string[],
  ) {
    super(
      configuredHubs.length === 0
        ? `No WebPubSubServiceClient for hub "${hub}": no hub is configured (give hub to WebPubSubModule.forRoot(), or next to useFactory in forRootAsync())`
        : `No WebPubSubServiceClient for hub "${hub}": the configured hubs are ${configuredHubs.map(name => `"${name}"`).join(', ')}`,
    );
    this.name = 'UnknownWebPubSubHubError';
  }
}
