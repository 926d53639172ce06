import {
  BadRequestException,
  HttpException,
  Inject,
  Injectable,
  InternalServerErrorException,
  Logger,
  NotFoundException,
  UnauthorizedException,
  type OnModuleInit,
} from '@nestjs/common';
import { UnknownWebPubSubHubError } from '../errors/unknown-web-pubsub-hub.error.js';
import { WebPubSubOptionsError } from '../errors/web-pubsub-options.error.js';
import type {
  WebPubSubNegotiateOptions,
  WebPubSubNegotiateProtocol,
  WebPubSubNegotiateResponse,
} from '../interfaces/web-pubsub-service-client.interface.js';
import {
  DEFAULT_NEGOTIATE_PATH,
  WEB_PUBSUB_LOGGER_CONTEXT,
  WEB_PUBSUB_NEGOTIATE_OPTIONS,
} from '../web-pubsub.constants.js';
import { ServiceClientMessages } from '../web-pubsub.messages.js';
import { negotiateResultProblem, isNegotiateResult } from './negotiate-result.js';
import { WebPubSubServiceClients } from './web-pubsub-service-clients.js';
import { sameHub } from '../protocol/names.js';

/** Default token lifetime, the SDK's. */
const DEFAULT_EXPIRATION_MINUTES = 60;

/**
 * The negotiate route's work: resolve the caller, then have the hub's service client issue the
 * client access URL. Identity and expiry come from `resolve` and the options, never from the request.
 */
@Injectable()
export class WebPubSubNegotiator implements OnModuleInit {
  private readonly logger = new Logger(WEB_PUBSUB_LOGGER_CONTEXT);

  constructor(
    @Inject(WEB_PUBSUB_NEGOTIATE_OPTIONS) private readonly options: WebPubSubNegotiateOptions,
    private readonly clients: WebPubSubServiceClients,
  ) {}

  /**
   * Every hub the route serves must have a working client before the app takes requests. The
   * client is the one behind the hub's token (`getWebPubSubServiceClientToken(hub)`), so a client
   * put in its place (`overrideProvider(...).useValue(fake)`) serves the route and no credentials
   * are needed for it.
   */
  onModuleInit(): void {
    if (this.clients.hubs.length === 0) {
      throw new WebPubSubOptionsError([
        'negotiate needs the hubs it hands out tokens for: give hub (in forRootAsync(), next to useFactory)',
      ]);
    }
    for (const hub of this.clients.hubs) this.clients.get(hub);
    this.logger.log(
      ServiceClientMessages.negotiateRoute(
        this.options.path ?? DEFAULT_NEGOTIATE_PATH,
        this.clients.hubs,
        this.clients.defaultHub,
      ),
    );
  }

  async negotiate(
    request: unknown,
    hubParam: string | undefined,
    protocolParam: unknown,
  ): Promise<WebPubSubNegotiateResponse> {
    const hub = this.hub(hubParam);
    const requested = this.protocol(protocolParam);
    let result: unknown;
    try {
      result = await this.options.resolve(request, { hub, clientProtocol: requested });
    } catch (error) {
      if (error instanceof HttpException) throw error;
      this.logger.error(
        ServiceClientMessages.negotiateResolveFailed(hub),
        (error as Error)?.stack ?? String(error),
      );
      throw new InternalServerErrorException('Negotiate failed');
    }
    if (result === null || result === undefined) {
      throw new UnauthorizedException(
        'The caller is not identified: no client access token is issued',
      );
    }
    if (!isNegotiateResult(result)) {
      this.logger.error(
        ServiceClientMessages.negotiateInvalidResult(hub, negotiateResultProblem(result)!),
      );
      throw new InternalServerErrorException('Negotiate failed');
    }
    try {
      const { token, baseUrl, url } = await this.clients.get(hub).getClientAccessToken({
        userId: result.userId,
        roles: result.roles,
        groups: result.groups,
        expirationTimeInMinutes:
          result.expirationTimeInMinutes ??
          this.options.expirationTimeInMinutes ??
          DEFAULT_EXPIRATION_MINUTES,
        clientProtocol: result.clientProtocol ?? requested,
      });
      return { baseUrl, url, token };
    } catch (error) {
      this.logger.error(
        ServiceClientMessages.negotiateTokenFailed(hub),
        (error as Error)?.stack ?? String(error),
      );
      throw new InternalServerErrorException('Negotiate failed');
    }
  }

  private hub(param: string | undefined): string {
    if (param === undefined || param === '') {
      const fallback = this.clients.defaultHub;
      if (fallback === undefined) {
        throw new NotFoundException('Name the hub in the path: <negotiate path>/<hub>');
      }
      return fallback;
    }
    try {
      this.clients.get(param);
    } catch (error) {
      if (error instanceof UnknownWebPubSubHubError) {
        throw new NotFoundException(`Hub "${param.slice(0, 128)}" is not served here`);
      }
      throw error;
    }
    return this.clients.hubs.find(hub => sameHub(hub, param)) ?? param;
  }

  private protocol(param: unknown): WebPubSubNegotiateProtocol {
    if (param === undefined || param === '' || param === 'default') return 'default';
    if (param === 'mqtt') return 'mqtt';
    if (param === 'socketio') return 'socketio';
    throw new BadRequestException('protocol must be "default", "mqtt" or "socketio"');
  }
}
