import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { NAME_PATTERN, ROOM_PATTERN } from './chat-rules.js';

export interface ChatSession {
  readonly name: string;
  readonly room: string;
}

/** What `POST /join` answers: the tab keeps `token` (in `sessionStorage`) and sends it as a bearer token. */
export interface ChatPass {
  readonly token: string;
  readonly user: ChatSession;
  /** Epoch seconds. */
  readonly expiresAt: number;
}

const MAX_AGE_SECONDS = 12 * 60 * 60;

/**
 * The sample's sign-in: the join form's name and room in an HMAC-signed token that the page keeps
 * per tab and sends as `Authorization: Bearer <token>` on `GET /session` and on negotiate, so two
 * tabs of one browser can be two people. The server trusts only a token it signed itself and that
 * has not expired; the negotiate route reads the user only from here, never from the query or body.
 */
export class ChatSessions {
  private readonly secret: Buffer;

  /** `secret`: any string; absent, a random one (sessions end when the process does). */
  constructor(secret?: string) {
    this.secret = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  /** A signed pass for `session`, valid for 12 hours. */
  issue(session: ChatSession): ChatPass {
    const expiresAt = now() + MAX_AGE_SECONDS;
    const payload = Buffer.from(
      JSON.stringify({ name: session.name, room: session.room, exp: expiresAt }),
    ).toString('base64url');
    return {
      token: `${payload}.${this.sign(payload)}`,
      user: { name: session.name, room: session.room },
      expiresAt,
    };
  }

  /** The session of the request's bearer token, or `null` (none, forged, expired or malformed). */
  read(request: { headers: Record<string, string | string[] | undefined> }): ChatSession | null {
    const header = request.headers.authorization;
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(
      Array.isArray(header) ? '' : (header ?? ''),
    );
    if (!match) return null;
    const value = match[1];
    const dot = value.indexOf('.');
    const payload = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.sign(payload), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      return null;
    }
    const { name, room, exp } = (parsed ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) return null;
    if (typeof room !== 'string' || !ROOM_PATTERN.test(room)) return null;
    if (typeof exp !== 'number' || exp <= now()) return null;
    return { name, room };
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}

const now = (): number => Math.floor(Date.now() / 1000);
