/**
 * A `HubOperations` that only lists: the live view reads hubs and connections and nothing else.
 * The page specs use it to show connections the real emulator could not produce on demand
 * (hundreds of them, hostile names); every other operation throws so a stray call is noticed.
 */
import type { ConnectionView, HubOperations } from '../../lib/emulator/state/hub-operations.js';

export class ListingHubs implements HubOperations {
  readonly hubs = new Map<string, ConnectionView[]>();

  add(hub: string, connection: ConnectionView): void {
    const list = this.hubs.get(hub) ?? [];
    list.push(connection);
    this.hubs.set(hub, list);
  }

  remove(hub: string, connectionId: string): void {
    const list = this.hubs.get(hub) ?? [];
    this.hubs.set(
      hub,
      list.filter(c => c.connectionId !== connectionId),
    );
  }

  hubNames(): string[] {
    return [...this.hubs.keys()];
  }

  listConnections(hub: string): Iterable<ConnectionView> {
    return this.hubs.get(hub) ?? [];
  }

  #unused(): never {
    throw new Error('the live view only lists hubs and connections');
  }

  connectionExists = (): boolean => this.#unused();
  userExists = (): boolean => this.#unused();
  groupExists = (): boolean => this.#unused();
  sendToAll = (): void => this.#unused();
  sendToUser = (): void => this.#unused();
  sendToConnection = (): void => this.#unused();
  sendToGroup = (): void => this.#unused();
  closeConnection = (): void => this.#unused();
  closeAllConnections = (): void => this.#unused();
  closeUserConnections = (): void => this.#unused();
  closeGroupConnections = (): void => this.#unused();
  addConnectionToGroup = (): boolean => this.#unused();
  removeConnectionFromGroup = (): void => this.#unused();
  removeConnectionFromAllGroups = (): void => this.#unused();
  addUserToGroup = (): void => this.#unused();
  removeUserFromGroup = (): void => this.#unused();
  removeUserFromAllGroups = (): void => this.#unused();
  addConnectionsToGroups = (): void => this.#unused();
  removeConnectionsFromGroups = (): void => this.#unused();
  grantPermission = (): boolean => this.#unused();
  revokePermission = (): void => this.#unused();
  hasPermission = (): boolean => this.#unused();
}
