/**
 * The service's naming rules, shared by every part that accepts a hub or a group name (the
 * emulator's client endpoints, its REST data plane and its options).
 */

/** Hub names as the service accepts them (`@azure/web-pubsub` `generated/models/parameters.js`). */
export const HUB_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_`,.[\]]{0,127}$/;

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
