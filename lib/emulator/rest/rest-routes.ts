/**
 * The REST data plane's routes: every operation `@azure/web-pubsub` 1.2 calls, its method and
 * path under `/api/hubs/{hub}`, what it does through `HubOperations` and the status it answers.
 */
import { type HubOperations } from '../state/hub-operations.js';
import { notFound, RestError } from './rest-errors.js';
import { Call } from './rest-call.js';

export type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';

export interface Route {
  readonly method: Method;
  /** Segments after `/api/hubs/{hub}`; `{name}` captures a path parameter. */
  readonly path: readonly string[];
  readonly operation: string;
  readonly run: (call: Call) => Promise<Answer> | Answer;
}

export interface Answer {
  readonly status: number;
  readonly body?: unknown;
}

const ACCEPTED: Answer = { status: 202 };
const NO_CONTENT: Answer = { status: 204 };
export const OK: Answer = { status: 200 };
/** 200, or the service's 404 for what is missing. */
const exists = (found: boolean, missing: () => RestError): Answer => {
  if (found) return OK;
  throw missing();
};

export const ROUTES: readonly Route[] = [
  // Hub-wide
  {
    method: 'POST',
    path: [':send'],
    operation: 'sendToAll',
    run: async c => {
      const message = await c.message();
      c.reached(c.hubs.sendToAll(c.hub, message, c.sendOptions()));
      return ACCEPTED;
    },
  },
  {
    method: 'POST',
    path: [':closeConnections'],
    operation: 'closeAllConnections',
    run: c => {
      c.hubs.closeAllConnections(c.hub, c.closeOptions());
      return NO_CONTENT;
    },
  },
  {
    method: 'POST',
    path: [':addToGroups'],
    operation: 'addConnectionsToGroups',
    run: async c => {
      const { groups, filter } = await c.groupsAndFilter();
      c.hubs.addConnectionsToGroups(c.hub, groups, filter);
      return OK;
    },
  },
  {
    method: 'POST',
    path: [':removeFromGroups'],
    operation: 'removeConnectionsFromGroups',
    run: async c => {
      const { groups, filter } = await c.groupsAndFilter();
      c.hubs.removeConnectionsFromGroups(c.hub, groups, filter);
      return OK;
    },
  },
  {
    method: 'POST',
    path: [':generateToken'],
    operation: 'generateClientToken',
    run: async c => ({ status: 200, body: { token: await c.clientToken() } }),
  },
  // Users
  {
    method: 'POST',
    path: ['users', '{userId}', ':send'],
    operation: 'sendToUser',
    run: async c => {
      const message = await c.message();
      c.reached(c.hubs.sendToUser(c.hub, c.param('userId'), message, c.sendOptions()));
      return ACCEPTED;
    },
  },
  {
    method: 'HEAD',
    path: ['users', '{userId}'],
    operation: 'userExists',
    run: c =>
      exists(c.hubs.userExists(c.hub, c.param('userId')), () =>
        notFound('user', c.param('userId')),
      ),
  },
  {
    method: 'POST',
    path: ['users', '{userId}', ':closeConnections'],
    operation: 'closeUserConnections',
    run: c => {
      c.hubs.closeUserConnections(c.hub, c.param('userId'), c.closeOptions());
      return NO_CONTENT;
    },
  },
  {
    method: 'DELETE',
    path: ['users', '{userId}', 'groups'],
    operation: 'removeUserFromAllGroups',
    run: c => {
      c.hubs.removeUserFromAllGroups(c.hub, c.param('userId'));
      return NO_CONTENT;
    },
  },
  {
    method: 'PUT',
    path: ['users', '{userId}', 'groups', '{group}'],
    operation: 'addUserToGroup',
    run: c => {
      c.hubs.addUserToGroup(c.hub, c.param('group'), c.param('userId'));
      return OK;
    },
  },
  {
    method: 'DELETE',
    path: ['users', '{userId}', 'groups', '{group}'],
    operation: 'removeUserFromGroup',
    run: c => {
      c.hubs.removeUserFromGroup(c.hub, c.param('group'), c.param('userId'));
      return NO_CONTENT;
    },
  },
  // Connections
  {
    method: 'POST',
    path: ['connections', '{connectionId}', ':send'],
    operation: 'sendToConnection',
    run: async c => {
      const message = await c.message();
      c.messageTtlSeconds();
      c.reached(c.hubs.sendToConnection(c.hub, c.param('connectionId'), message));
      return ACCEPTED;
    },
  },
  {
    method: 'HEAD',
    path: ['connections', '{connectionId}'],
    operation: 'connectionExists',
    run: c => {
      const id = c.param('connectionId');
      return exists(c.hubs.connectionExists(c.hub, id), () => notFound('connection', id));
    },
  },
  {
    method: 'DELETE',
    path: ['connections', '{connectionId}'],
    operation: 'closeConnection',
    run: c => {
      c.hubs.closeConnection(c.hub, c.param('connectionId'), c.query.get('reason') ?? undefined);
      return NO_CONTENT;
    },
  },
  {
    method: 'DELETE',
    path: ['connections', '{connectionId}', 'groups'],
    operation: 'removeConnectionFromAllGroups',
    run: c => {
      c.hubs.removeConnectionFromAllGroups(c.hub, c.param('connectionId'));
      return NO_CONTENT;
    },
  },
  // Groups
  {
    method: 'POST',
    path: ['groups', '{group}', ':send'],
    operation: 'sendToGroup',
    run: async c => {
      const message = await c.message();
      c.reached(c.hubs.sendToGroup(c.hub, c.param('group'), message, c.sendOptions()));
      return ACCEPTED;
    },
  },
  {
    method: 'HEAD',
    path: ['groups', '{group}'],
    operation: 'groupExists',
    run: c =>
      exists(c.hubs.groupExists(c.hub, c.param('group')), () =>
        notFound('group', c.param('group')),
      ),
  },
  {
    method: 'POST',
    path: ['groups', '{group}', ':closeConnections'],
    operation: 'closeGroupConnections',
    run: c => {
      c.hubs.closeGroupConnections(c.hub, c.param('group'), c.closeOptions());
      return NO_CONTENT;
    },
  },
  {
    method: 'GET',
    path: ['groups', '{group}', 'connections'],
    operation: 'listConnectionsInGroup',
    run: c => ({ status: 200, body: c.connectionPage() }),
  },
  {
    method: 'PUT',
    path: ['groups', '{group}', 'connections', '{connectionId}'],
    operation: 'addConnectionToGroup',
    run: c => {
      const id = c.param('connectionId');
      if (c.hubs.addConnectionToGroup(c.hub, c.param('group'), id)) return OK;
      throw notFound('groupConnection', id);
    },
  },
  {
    method: 'DELETE',
    path: ['groups', '{group}', 'connections', '{connectionId}'],
    operation: 'removeConnectionFromGroup',
    run: c => {
      c.hubs.removeConnectionFromGroup(c.hub, c.param('group'), c.param('connectionId'));
      return NO_CONTENT;
    },
  },
  // Permissions
  {
    method: 'PUT',
    path: ['permissions', '{permission}', 'connections', '{connectionId}'],
    operation: 'grantPermission',
    run: c => {
      const id = c.param('connectionId');
      if (c.hubs.grantPermission(c.hub, id, c.permission(), c.targetName())) return OK;
      throw notFound('permissionConnection', id);
    },
  },
  {
    method: 'DELETE',
    path: ['permissions', '{permission}', 'connections', '{connectionId}'],
    operation: 'revokePermission',
    run: c => {
      c.hubs.revokePermission(c.hub, c.param('connectionId'), c.permission(), c.targetName());
      return NO_CONTENT;
    },
  },
  {
    method: 'HEAD',
    path: ['permissions', '{permission}', 'connections', '{connectionId}'],
    operation: 'checkPermission',
    run: c => {
      const id = c.param('connectionId');
      const [permission, target] = [c.permission(), c.targetName()];
      // The official emulator answers a permission the connection lacks as an unknown connection.
      return exists(c.hubs.hasPermission(c.hub, id, permission, target), () =>
        notFound('permissionConnection', id),
      );
    },
  },
];

/** Which `HubOperations` member each operation needs (for 501 when it is missing). */
export const MEMBER: Record<string, keyof HubOperations | undefined> = {
  sendToAll: 'sendToAll',
  closeAllConnections: 'closeAllConnections',
  addConnectionsToGroups: 'addConnectionsToGroups',
  removeConnectionsFromGroups: 'removeConnectionsFromGroups',
  sendToUser: 'sendToUser',
  userExists: 'userExists',
  closeUserConnections: 'closeUserConnections',
  removeUserFromAllGroups: 'removeUserFromAllGroups',
  addUserToGroup: 'addUserToGroup',
  removeUserFromGroup: 'removeUserFromGroup',
  sendToConnection: 'sendToConnection',
  connectionExists: 'connectionExists',
  closeConnection: 'closeConnection',
  removeConnectionFromAllGroups: 'removeConnectionFromAllGroups',
  sendToGroup: 'sendToGroup',
  groupExists: 'groupExists',
  closeGroupConnections: 'closeGroupConnections',
  listConnectionsInGroup: 'listConnections',
  addConnectionToGroup: 'addConnectionToGroup',
  removeConnectionFromGroup: 'removeConnectionFromGroup',
  grantPermission: 'grantPermission',
  revokePermission: 'revokePermission',
  checkPermission: 'hasPermission',
};

/** Routes by segment count after `/api/hubs/{hub}`. */
export const ROUTES_BY_LENGTH = new Map<number, Route[]>();
for (const route of ROUTES) {
  const list = ROUTES_BY_LENGTH.get(route.path.length) ?? [];
  list.push(route);
  ROUTES_BY_LENGTH.set(route.path.length, list);
}

export function matchPath(
  template: readonly string[],
  segments: readonly string[],
): Map<string, string> | undefined {
  const params = new Map<string, string>();
  for (let i = 0; i < template.length; i++) {
    const part = template[i];
    if (part.startsWith('{')) params.set(part.slice(1, -1), segments[i]);
    else if (part.toLowerCase() !== segments[i].toLowerCase()) return undefined;
  }
  return params;
}
