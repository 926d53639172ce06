/**
 * The service's naming rules, the one home of each: every part that accepts a hub or a group
 * name (the module's options and service clients, the emulator's endpoints, REST data plane and
 * options) checks it here and refuses it with the same words.
 */
import { quote } from './text.js';

/** Hub names as the service accepts them (`@azure/web-pubsub` `generated/models/parameters.js`). */
export const HUB_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_`,.[\]]{0,127}$/;

/** Why `hub` is not a hub name the service accepts, or `undefined` when it is one. */
export function hubNameProblem(hub: string): string | undefined {
  if (HUB_NAME_PATTERN.test(hub)) return undefined;
  return `${quote(hub, 140)} is not a valid hub name (a letter, then up to 127 letters, digits or _ \` , . [ ])`;
}

/**
 * Hub names are case-insensitive (the service sends `ce-hub` lower-cased): `hubKey` is the one
 * spelling under which a hub is looked up, keyed and sent, whatever case it was written in.
 * `String.prototype.toLowerCase` is locale-independent, and hub names are ASCII.
 */
export function hubKey(hub: string): string {
  return hub.toLowerCase();
}

/** Whether `a` and `b` name the same hub (compared case-insensitively, as the service does). */
export function sameHub(a: string, b: string): boolean {
  return hubKey(a) === hubKey(b);
}

/** Group names: 1 to 1024 characters, not only white space. */
export const MAX_GROUP_NAME_LENGTH = 1024;

/** Why `group` is not a valid group name, or `undefined` when it is. */
export function groupNameProblem(group: unknown): string | undefined {
  if (typeof group !== 'string' || group.length === 0) return 'group must be a non-empty string';
  if (group.length > MAX_GROUP_NAME_LENGTH)
    return `group is longer than ${MAX_GROUP_NAME_LENGTH} characters`;
  if (group.trim() === '') return 'group must not be only whitespace';
  return undefined;
}
