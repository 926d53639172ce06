/**
 * The service's group names for Socket.IO namespaces and rooms, as `@azure/web-pubsub-socket.io`
 * writes them: `0~<base64url(namespace)>~` for a whole namespace (the target of `io.emit()`), and
 * `0~<base64url(namespace)>~<base64url(room)>` for a room.
 */

export function sioGroupName(namespace: string, room = ''): string {
  const base = `0~${Buffer.from(namespace, 'utf8').toString('base64url')}~`;
  return room === '' ? base : base + Buffer.from(room, 'utf8').toString('base64url');
}

/** The namespace and room of a group named by {@link sioGroupName}; `undefined` for other names. */
export function parseSioGroupName(group: string): { namespace: string; room?: string } | undefined {
  const match = /^0~([A-Za-z0-9_-]*)~([A-Za-z0-9_-]*)$/.exec(group);
  if (!match) return undefined;
  const namespace = Buffer.from(match[1], 'base64url').toString('utf8');
  return match[2] === ''
    ? { namespace }
    : { namespace, room: Buffer.from(match[2], 'base64url').toString('utf8') };
}

/** How a person reads a Socket.IO group: `namespace /chat`, `room lobby in /chat`. */
export function describeSioGroup(group: string): string {
  const parsed = parseSioGroupName(group);
  if (!parsed) return group;
  return parsed.room === undefined
    ? `namespace ${parsed.namespace}`
    : `room ${parsed.room} in ${parsed.namespace}`;
}
