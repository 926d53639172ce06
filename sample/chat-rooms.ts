/**
 * Who is in which room: the connections of each user per room, counted on `connected` and
 * `disconnected`. Kept in this process's memory: one app instance sees its own connections only
 * (several instances behind one hub would keep this in a shared store).
 */
export class ChatRooms {
  private readonly rooms = new Map<string, Map<string, number>>();

  /** Counts one more connection of `user` in `room`; the room's members after it. */
  enter(room: string, user: string): string[] {
    let members = this.rooms.get(room);
    if (!members) this.rooms.set(room, (members = new Map()));
    members.set(user, (members.get(user) ?? 0) + 1);
    return this.members(room);
  }

  /** Counts one connection of `user` less; the room's members after it. */
  leave(room: string, user: string): string[] {
    const members = this.rooms.get(room);
    const count = members?.get(user) ?? 0;
    if (members && count <= 1) {
      members.delete(user);
      if (members.size === 0) this.rooms.delete(room);
    } else if (members) {
      members.set(user, count - 1);
    }
    return this.members(room);
  }

  /** The room's members, sorted by name. */
  members(room: string): string[] {
    return [...(this.rooms.get(room)?.keys() ?? [])].sort((a, b) => a.localeCompare(b));
  }
}
