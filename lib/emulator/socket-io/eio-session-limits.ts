/** What one Engine.IO connection of a Socket.IO client may hold, and how long its upgrade may take. */
export interface EioSessionLimits {
  /** Bytes queued for a long-polling client that does not poll; beyond, the connection ends. Default 16 MB. */
  readonly maxQueuedBytes: number;
  /** How long a WebSocket upgrade may take from probe to `upgrade`. Default 10 s. */
  readonly upgradeTimeoutMs: number;
}

export const DEFAULT_EIO_LIMITS: EioSessionLimits = {
  maxQueuedBytes: 16 * 1024 * 1024,
  upgradeTimeoutMs: 10_000,
};
