/** What a name and a room may be: checked by the join form's DTO and again on every signed session. */
export const NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,23}$/u;
export const NAME_RULE = 'name: 1 to 24 letters, digits, spaces, dots, dashes or underscores';
export const ROOM_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
export const ROOM_RULE = 'room: 1 to 32 letters, digits, dashes or underscores';

/** What the page receives through the room group (`at`: ISO time; `members`: who is in the room after it). */
export type ChatEvent =
  | { type: 'joined' | 'left'; user: string; at: string; members: string[] }
  | { type: 'message'; user: string; text: string; at: string };
