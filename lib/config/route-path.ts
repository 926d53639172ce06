import { WebPubSubOptionsError } from '../errors/web-pubsub-options.error.js';
import { DEFAULT_PATH } from '../web-pubsub.constants.js';

/** `eventhandler/` → `/eventhandler`; refuses route syntax, which the path must not contain. */
export function normalizePath(path: string | undefined, fallback: string = DEFAULT_PATH): string {
  if (path === undefined) return fallback;
  if (typeof path !== 'string') throw new WebPubSubOptionsError(['path must be a string']);
  const trimmed = path.trim().replace(/^\/+|\/+$/g, '');
  if (/[^A-Za-z0-9\-._~/]/.test(trimmed) || trimmed.includes('//')) {
    throw new WebPubSubOptionsError([
      `path "${path}" may only contain letters, digits, "-", ".", "_", "~" and "/" (no parameters or wildcards)`,
    ]);
  }
  return `/${trimmed}`;
}
