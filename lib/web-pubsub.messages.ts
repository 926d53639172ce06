export const Messages = {
  noSignatureKeys: () =>
    'No access key is configured: ce-signature is NOT checked, so anyone who can reach this endpoint can forge events. ' +
    'Set connectionString (Endpoint=...;AccessKey=...) to check signatures.',
  noHandlers: () => 'No @OnConnect/@OnConnected/@OnUserEvent/@OnDisconnected handler was found.',
  registered: (kind: string, name: string, host: string, hub: string | undefined) =>
    `Registered ${kind === 'user' ? `user event "${name}"` : kind} handler ${host}${hub ? ` (hub "${hub}")` : ''}`,
  rejected: (method: string, url: string, status: number, message: string) =>
    `Rejected ${method} ${url}: ${status} ${message}`,
  event: (kind: string, name: string, hub: string, connectionId: string) =>
    `${kind === 'user' ? `user event "${name}"` : kind} hub=${hub} connection=${connectionId}`,
  noHandler: (kind: string, name: string, hub: string) =>
    `No handler for ${kind === 'user' ? `user event "${name}"` : kind} on hub "${hub}": answered 204`,
  handlerFailed: (host: string) => `Handler ${host} failed`,
  handlerTimedOut: (host: string, ms: number) =>
    `Handler ${host} did not finish within ${ms} ms (handlerTimeout)`,
  timeoutAnswer: (ms: number) => `The event handler did not answer within ${ms} ms`,
  writeFailed: (host: string) => `The result of handler ${host} could not be encoded`,
  bodyLimitBelowMax: (fastifyLimit: number, maxBodySize: number) =>
    `Fastify's bodyLimit (${fastifyLimit} bytes) is below maxBodySize (${maxBodySize} bytes): with rawBody: true, ` +
    `JSON events above ${fastifyLimit} bytes are refused with 413. Create the adapter with new FastifyAdapter({ bodyLimit: ${maxBodySize} }).`,
  unknownPlatform: (type: string) =>
    `HTTP platform "${type}" is not supported: the event handler needs @nestjs/platform-express or @nestjs/platform-fastify.`,
};

/** Messages of the service clients and the negotiate route. */
export const ServiceClientMessages = {
  negotiateRoute: (path: string, hubs: readonly string[], defaultHub: string | undefined) =>
    `Negotiate route ${path}/:hub for hub${hubs.length === 1 ? '' : 's'} ${hubs.map(hub => `"${hub}"`).join(', ')}${defaultHub ? `, and ${path} for "${defaultHub}"` : ''}`,
  negotiateResolveFailed: (hub: string) => `negotiate resolve() for hub "${hub}" failed`,
  negotiateInvalidResult: (hub: string, problem: string) =>
    `negotiate resolve() for hub "${hub}" returned an invalid result: ${problem}`,
  negotiateTokenFailed: (hub: string) =>
    `negotiate: the service client of hub "${hub}" could not issue a client access token`,
};
