/// <reference lib="dom" />
/**
 * The chat page's script, bundled with `@azure/web-pubsub-client` by `sample/build-client.mjs`.
 * Who this tab is lives in `sessionStorage` (one signed pass per tab, sent as a bearer token), so
 * two tabs of one browser are two people. Text from the chat only ever reaches the page through
 * `textContent`.
 */
import { WebPubSubClient } from '@azure/web-pubsub-client';
import type { ChatEvent } from '../chat-rules.js';

interface User {
  name: string;
  room: string;
}

interface Session {
  user: User | null;
  liveView: string | null;
}

/** The `sessionStorage` key of this tab's pass (the token `POST /join` answered). */
const PASS_KEY = 'chat.pass';

const byId = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

const storedToken = (): string | null => sessionStorage.getItem(PASS_KEY);

function authorization(): HeadersInit {
  const token = storedToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** The tab's pass is gone (expired, or the server restarted with a new secret): back to the form. */
function signOut(): void {
  sessionStorage.removeItem(PASS_KEY);
  location.reload();
}

/**
 * The client asks this for a URL on every (re)connect, so a reconnect after a token expired or
 * the connection was closed gets a fresh token from the negotiate route (the tab's bearer token
 * says who we are).
 */
async function negotiate(): Promise<string> {
  const response = await fetch('/negotiate', { method: 'POST', headers: authorization() });
  if (response.status === 401) signOut();
  if (!response.ok) throw new Error(`negotiate answered ${response.status}`);
  return ((await response.json()) as { url: string }).url;
}

function showJoin(): void {
  const form = byId<HTMLFormElement>('join');
  form.hidden = false;
  (form.elements.namedItem('name') as HTMLInputElement).focus();
  form.addEventListener('submit', async event => {
    event.preventDefault();
    const body = new URLSearchParams();
    for (const name of ['name', 'room']) {
      body.set(name, (form.elements.namedItem(name) as HTMLInputElement).value.trim());
    }
    const response = await fetch('/join', { method: 'POST', body });
    if (response.ok) {
      const pass = (await response.json()) as { token: string; user: User };
      sessionStorage.setItem(PASS_KEY, pass.token);
      form.hidden = true;
      await showChat(pass.user);
      return;
    }
    const problem = (await response.json().catch(() => ({}))) as { message?: string | string[] };
    byId('join-error').textContent = [problem.message ?? `error ${response.status}`]
      .flat()
      .join('; ');
  });
}

function setStatus(state: string, detail = state): void {
  const status = byId('status');
  status.dataset.state = state;
  status.textContent = detail;
}

/** `<time>` with the local hour and minute, the full date as its tooltip. */
function timeOf(iso: string): HTMLTimeElement {
  const time = document.createElement('time');
  const at = new Date(iso);
  time.dateTime = iso;
  time.textContent = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  time.title = at.toLocaleString();
  return time;
}

function span(className: string, text: string): HTMLSpanElement {
  const node = document.createElement('span');
  node.className = className;
  node.textContent = text;
  return node;
}

function showMembers(members: string[], me: string): void {
  const list = byId('members');
  list.replaceChildren(
    ...members.map(name => {
      const item = document.createElement('li');
      item.textContent = name === me ? `${name} (you)` : name;
      item.dataset.user = name;
      if (name === me) item.className = 'me';
      return item;
    }),
  );
  byId('member-count').textContent = String(members.length);
}

function render(event: ChatEvent, me: string): void {
  const log = byId('log');
  const item = document.createElement('li');
  item.dataset.user = event.user;
  if (event.type === 'message') {
    item.className = event.user === me ? 'message mine' : 'message';
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.append(span('user', event.user === me ? 'You' : event.user), timeOf(event.at));
    item.append(meta, span('text', event.text));
  } else {
    item.className = `notice ${event.type}`;
    item.append(span('what', `${event.user} ${event.type}`), timeOf(event.at));
    showMembers(event.members, me);
  }
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.append(item);
  if (atBottom || event.user === me) log.scrollTop = log.scrollHeight;
}

async function showChat(user: User): Promise<void> {
  byId('chat').hidden = false;
  byId('where').hidden = false;
  byId('status').hidden = false;
  byId('me').textContent = user.name;
  byId('room').textContent = user.room;
  document.title = `${user.name} in #${user.room} · Chat`;

  const client = new WebPubSubClient({ getClientAccessUrl: negotiate });
  client.on('connected', () => setStatus('connected'));
  client.on('disconnected', () => setStatus('reconnecting'));
  client.on('stopped', () => setStatus('stopped'));
  client.on('group-message', event => render(event.message.data as ChatEvent, user.name));
  // The gateway variant answers a refused message with Nest's exception message.
  client.on('server-message', event => {
    const reply = event.message.data as { event?: string; data?: { message?: unknown } } | null;
    if (reply?.event === 'exception')
      byId('send-error').textContent = `Not sent: ${String(reply.data?.message ?? 'refused')}`;
  });

  const leave = byId<HTMLButtonElement>('leave');
  leave.hidden = false;
  leave.addEventListener('click', () => {
    client.stop();
    signOut();
  });

  const form = byId<HTMLFormElement>('send');
  const input = form.elements.namedItem('text') as HTMLInputElement;
  form.addEventListener('submit', async event => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    byId('send-error').textContent = '';
    try {
      await client.sendEvent('message', { text }, 'json');
    } catch (error) {
      byId('send-error').textContent = `Not sent: ${(error as Error).message}`;
    }
  });
  input.focus();
  try {
    await client.start();
  } catch (error) {
    setStatus('stopped', `could not connect: ${(error as Error).message}`);
  }
}

async function main(): Promise<void> {
  const session = (await (await fetch('/session', { headers: authorization() })).json()) as Session;
  if (session.liveView) {
    const link = byId<HTMLAnchorElement>('live-view');
    link.href = session.liveView;
    link.hidden = false;
  }
  if (session.user) {
    await showChat(session.user);
    return;
  }
  // A pass the server no longer accepts (expired, or signed by an earlier run) is forgotten.
  sessionStorage.removeItem(PASS_KEY);
  showJoin();
}

void main();
