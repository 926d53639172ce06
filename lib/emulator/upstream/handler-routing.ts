/**
 * Which event handler gets an event: the first of the hub's handlers whose system events name it,
 * or whose user event pattern matches it (`*`, a comma list, or one name; case-insensitive, as the
 * service compares), with its URL template expanded (`{hub}`, `{event}`; `validate` for the
 * handshake).
 */
import type { HubSettings } from '../emulator-options.js';
import { hubKey } from '../../protocol/names.js';

export interface HandlerTarget {
  readonly url: string;
  readonly validationUrl: string;
}

/** The first handler of `settings` that takes `event`: its URL and the URL its handshake goes to (`{event}` = `validate`). */
export function handlerFor(
  settings: HubSettings | undefined,
  hub: string,
  event: string,
  system: boolean,
): HandlerTarget | undefined {
  for (const handler of settings?.eventHandlers ?? []) {
    const matches = system
      ? (handler.systemEvents ?? []).some(name => name.toLowerCase() === event)
      : userEventMatches(handler.userEventPattern, event);
    if (matches) {
      return {
        url: expandTemplate(handler.urlTemplate, hub, event),
        validationUrl: expandTemplate(handler.urlTemplate, hub, 'validate'),
      };
    }
  }
  return undefined;
}

/** `*`, a comma list, or one name (names compared case-insensitively, as the service does). */
export function userEventMatches(pattern: string | undefined, event: string): boolean {
  if (pattern === undefined || pattern.trim() === '') return false;
  const names = pattern.split(',').map(name => name.trim().toLowerCase());
  return names.includes('*') || names.includes(event.toLowerCase());
}

export function expandTemplate(template: string, hub: string, event: string): string {
  return template
    .replaceAll('{hub}', encodeURIComponent(hubKey(hub)))
    .replaceAll('{event}', encodeURIComponent(event));
}
