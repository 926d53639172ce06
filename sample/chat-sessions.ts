import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { NAME_PATTERN, ROOM_PATTERN } from './chat-rules.js';

export interface ChatSession {
  readonly name: string;
  readonly room: string;
}

export const SESSION_COOKIE = 'chat_session';
const MAX_AGE_SECONDS = 12 * 60 * 60;

/**
 * The sample's sign-in: the join form's name and room in an HMAC-signed, HttpOnly cookie. The
 * negotiate route reads the user only from here, never from the request's query or body.
 */
export class ChatSessions {
  private readonly secret: Buffer;

  /** `secret`: any string; absent, a random one (sessions end when the process does). */
  constructor(secret?: string) {
    this.secret = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  /** The `Set-Cookie` value that signs `session` in. */
  signIn(session: ChatSession): string {
    const payload = Buffer.from(
      JSON.stringify({ name: session.name, room: session.room, exp: now() + MAX_AGE_SECONDS }),
    ).toString('base64url');
    return `${SESSION_COOKIE}=${payload}.${this.sign(payload)}; ${ATTRIBUTES}; Max-Age=${MAX_AGE_SECONDS}`;
  }

  /** The `Set-Cookie` value that signs out. */
  signOut(): string {
    return `${SESSION_COOKIE}=; ${ATTRIBUTES}; Max-Age=0`;
  }

  /** The session in the request's `Cookie` header, or `null` (none, forged, expired or malformed). */
  read(request: { headers: Record<string, string | string[] | undefined> }): ChatSession | null {
    const header = request.headers.cookie;
    const value = cookieValue(Array.isArray(header) ? header.join('; ') : header, SESSION_COOKIE);
    if (!value) return null;
    const dot = value.lastIndexOf('.');
    if (dot <= 0) return null;
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

const ATTRIBUTES = 'Path=/; HttpOnly; SameSite=Strict';

const now = (): number => Math.floor(Date.now() / 1000);

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
