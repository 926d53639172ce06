/// <reference lib="dom" />
/**
 * The chat page's script, bundled with `@azure/web-pubsub-client` by `sample/build-client.mjs`.
 * Text from the chat only ever reaches the page through `textContent`.
 */
import { WebPubSubClient } from '@azure/web-pubsub-client';
import type { ChatEvent } from '../chat-rules.js';

interface Session {
  user: { name: string; room: string } | null;
  liveView: string | null;
}

const byId = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

/**
 * The client asks this for a URL on every (re)connect, so a reconnect after a token expired or
 * the connection was closed gets a fresh token from the negotiate route (the session cookie says
 * who we are).
 */
async function negotiate(): Promise<string> {
  const response = await fetch('/negotiate', { method: 'POST', credentials: 'same-origin' });
  if (!response.ok) throw new Error(`negotiate answered ${response.status}`);
  return ((await response.json()) as { url: string }).url;
}

function showJoin(): void {
  const form = byId<HTMLFormElement>('join');
  form.hidden = false;
  form.addEventListener('submit', async event => {
    event.preventDefault();
    const body = new URLSearchParams();
    for (const name of ['name', 'room']) {
      body.set(name, (form.elements.namedItem(name) as HTMLInputElement).value.trim());
    }
    const response = await fetch('/join', { method: 'POST', body, credentials: 'same-origin' });
    if (response.ok) {
      location.reload();
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

function render(event: ChatEvent): void {
  const item = document.createElement('li');
  item.dataset.user = event.user;
  if (event.type === 'message') {
    item.className = 'message';
    const user = document.createElement('span');
    user.className = 'user';
    user.textContent = event.user;
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = event.text;
    item.append(user, text);
  } else {
    item.className = `notice ${event.type}`;
    item.textContent = `${event.user} ${event.type}`;
  }
  item.title = event.at;
  byId('log').append(item);
  item.scrollIntoView({ block: 'end' });
}

async function showChat(user: { name: string; room: string }): Promise<void> {
  byId('chat').hidden = false;
  byId('me').textContent = user.name;
  byId('room').textContent = user.room;

  const client = new WebPubSubClient({ getClientAccessUrl: negotiate });
  client.on('connected', () => setStatus('connected'));
  client.on('disconnected', () => setStatus('reconnecting'));
  client.on('stopped', () => setStatus('stopped'));
  client.on('group-message', event => render(event.message.data as ChatEvent));

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
  try {
    await client.start();
  } catch (error) {
    setStatus('stopped', `could not connect: ${(error as Error).message}`);
  }
}

async function main(): Promise<void> {
  const session = (await (
    await fetch('/session', { credentials: 'same-origin' })
  ).json()) as Session;
  if (session.liveView) {
    const link = byId<HTMLAnchorElement>('live-view');
    link.href = session.liveView;
    link.hidden = false;
  }
  if (session.user) await showChat(session.user);
  else showJoin();
}

void main();
