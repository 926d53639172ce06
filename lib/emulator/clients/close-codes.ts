/** The WebSocket close codes the emulator uses with clients, and the reasons it gives and reads. */

/** WebSocket close codes the emulator uses. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  abnormal: 1006,
  invalidPayload: 1007,
  policyViolation: 1008,
  internalError: 1011,
} as const;

/** Close reasons are at most 123 bytes. */
export function closeReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason;
  let text = reason.slice(0, 120);
  while (Buffer.byteLength(text) > 120) text = text.slice(0, -1);
  return `${text}…`;
}

/** Why a client's socket closed, in words, from its close code and reason. */
export function describeClose(code: number, reason: string): string {
  if (code === CloseCode.abnormal) return 'the socket closed without a close frame';
  if (code === 1009) return 'the client sent a frame larger than 1 MB';
  return reason ? `closed by the client (${code}: ${reason})` : `closed by the client (${code})`;
}
