import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Body,
  Controller,
  Get,
  Header,
  HttpCode,
  Inject,
  Post,
  Req,
  Res,
  ValidationPipe,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { WebPubSubServiceClient } from '@azure/web-pubsub';
import { InjectWebPubSubServiceClient } from 'nestjs-web-pubsub';
import { ChatSessions, type ChatPass, type ChatSession } from './chat-sessions.js';
import { JoinDto } from './chat.dto.js';
import { CHAT_APP_OPTIONS, type ChatAppOptions } from './sample-options.js';

type IncomingRequest = { headers: Record<string, string | string[] | undefined> };

const ASSETS = ['index.html', 'chat.css', 'chat.js'] as const;

/**
 * The page (`/`, `/chat.css`, `/chat.js`), who the tab is (`GET /session`), and the join form
 * (`POST /join` answers a signed pass the tab keeps in `sessionStorage`; leaving is the tab
 * forgetting it). No cookie: each tab is its own person. The negotiate route, which turns the
 * tab's bearer token into an access URL, is the module's (`negotiate` in `AppModule`).
 */
@Controller()
export class ChatPageController {
  private readonly assets: Record<(typeof ASSETS)[number], string>;
  private readonly csp: string;

  constructor(
    @Inject(CHAT_APP_OPTIONS) private readonly options: ChatAppOptions,
    private readonly sessions: ChatSessions,
    private readonly adapterHost: HttpAdapterHost,
    @InjectWebPubSubServiceClient() service: WebPubSubServiceClient,
  ) {
    this.assets = Object.fromEntries(
      ASSETS.map(name => {
        const path = join(options.publicDir, name);
        try {
          return [name, readFileSync(path, 'utf8')];
        } catch {
          throw new Error(`The chat page's ${path} is missing: run "npm run build:sample" first`);
        }
      }),
    ) as Record<(typeof ASSETS)[number], string>;
    // The page may open a WebSocket to the service (ws:// for the emulator, wss:// for Azure) and nothing else.
    const socketOrigin = new URL(service.endpoint).origin.replace(/^http/, 'ws');
    this.csp = [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src 'self' ${socketOrigin}`,
      "form-action 'self'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ].join('; ');
  }

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  page(@Res({ passthrough: true }) response: unknown): string {
    this.adapterHost.httpAdapter.setHeader(response, 'Content-Security-Policy', this.csp);
    return this.assets['index.html'];
  }

  @Get('chat.css')
  @Header('Content-Type', 'text/css; charset=utf-8')
  style(): string {
    return this.assets['chat.css'];
  }

  @Get('chat.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  script(): string {
    return this.assets['chat.js'];
  }

  /** Who the tab is (its bearer token; `user: null` without a valid one) and, on the emulator, where the live view is. */
  @Get('session')
  @Header('Cache-Control', 'no-store')
  session(@Req() request: IncomingRequest): {
    user: ChatSession | null;
    liveView: string | null;
  } {
    return { user: this.sessions.read(request), liveView: this.options.liveViewUrl ?? null };
  }

  /** The join form: a valid name and room get a signed pass for this tab (a 400 names what is wrong). */
  @Post('join')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  join(
    @Body(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true })) form: JoinDto,
  ): ChatPass {
    return this.sessions.issue({ name: form.name, room: form.room });
  }
}
