/**
 * What a client without a subprotocol does with its frames. By default (`sendEvent`) each frame is
 * the user event `message` to the event handler. With `webpubsub_mode=sendToGroup&group=<g>` in
 * the URL (and optionally `noEcho=true`), each frame is published to group `<g>` as it is (text or
 * binary), as the official emulator does it; the client needs the group-send permission
 * (`webpubsub.sendToGroup[.<g>]`, or a wildcard role). The query is checked before the upgrade.
 */
import { groupNameProblem, MAX_GROUP_NAME_LENGTH } from '../../protocol/names.js';

export interface RawSendToGroup {
  readonly group: string;
  /** The sender does not get its own frames back when it is a member of the group. */
  readonly noEcho: boolean;
}

/** A `webpubsub_mode` query the endpoint cannot honour; the message says why (sent as a 400). */
export class RawSendModeError extends Error {
  override readonly name = 'RawSendModeError';
}

/**
 * Reads `webpubsub_mode`, `group` and `noEcho`: `undefined` for the default mode (no
 * `webpubsub_mode`, or `sendEvent`), the group to publish to for `sendToGroup`.
 * @param subprotocolClient whether the client offered a Web PubSub subprotocol (the modes are for
 * clients without one).
 * @throws RawSendModeError naming the parameter and the problem.
 */
export function readRawSendMode(
  query: URLSearchParams,
  subprotocolClient: boolean,
): RawSendToGroup | undefined {
  const modes = query.getAll('webpubsub_mode');
  if (modes.length === 0) return undefined;
  if (modes.length > 1) throw new RawSendModeError('webpubsub_mode is given more than once');
  const mode = modes[0].toLowerCase();
  if (mode !== 'sendtogroup' && mode !== 'sendevent') {
    throw new RawSendModeError(
      `webpubsub_mode ${JSON.stringify(modes[0].slice(0, 40))} is not sendEvent (the default) or sendToGroup`,
    );
  }
  if (subprotocolClient) {
    throw new RawSendModeError(
      'webpubsub_mode is for clients without a subprotocol; a Web PubSub subprotocol client sends sendToGroup messages',
    );
  }
  if (mode === 'sendevent') return undefined;
  const groups = query.getAll('group');
  if (groups.length !== 1) {
    throw new RawSendModeError(
      groups.length === 0
        ? 'webpubsub_mode=sendToGroup needs the group to publish to: add group=<name>'
        : 'group is given more than once',
    );
  }
  const group = groups[0];
  if (groupNameProblem(group) !== undefined) {
    throw new RawSendModeError(
      `group ${JSON.stringify(group.slice(0, 40))} is not a valid group name: 1 to ${MAX_GROUP_NAME_LENGTH} characters, not all white space`,
    );
  }
  const noEcho = query.get('noEcho');
  if (noEcho !== null && !/^(true|false)$/i.test(noEcho)) {
    throw new RawSendModeError(
      `noEcho must be true or false, not ${JSON.stringify(noEcho.slice(0, 40))}`,
    );
  }
  return { group, noEcho: noEcho !== null && noEcho.toLowerCase() === 'true' };
}
