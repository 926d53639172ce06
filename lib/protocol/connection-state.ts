/**
 * `ce-connectionState` codec: base64 of a JSON object, the encoding `@azure/web-pubsub-express`
 * uses, so states written by either library read back in the other.
 */
export type ConnectionStates = Record<string, unknown>;

/** Decodes a `ce-connectionState` value; anything that is not base64 JSON of an object gives `{}`. */
export function decodeConnectionState(value: string | undefined): ConnectionStates {
  if (!value) return {};
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      return parsed as ConnectionStates;
    }
  } catch {
    // fall through: a malformed state is read as no state
  }
  return {};
}

/** Encodes states for the `ce-connectionState` response header (`{}` clears the state). */
export function encodeConnectionState(states: ConnectionStates): string {
  return Buffer.from(JSON.stringify(states), 'utf8').toString('base64');
}
