/** What one client connection may hold (JSON and MQTT sessions alike). */
export interface SessionLimits {
  /** How long a reliable connection waits for its client after a dropped socket. Default 30 s. */
  recoveryWindowMs: number;
  /** Unacked messages a reliable connection keeps; beyond, it ends. Default 1000. */
  maxUnackedMessages: number;
  /** Unacked bytes a reliable connection keeps; beyond, it ends. Default 16 MB. */
  maxUnackedBytes: number;
  /** Incoming messages waiting for their turn before the socket stops reading. Default 64. */
  maxQueuedMessages: number;
  /** Bytes waiting in a socket's send buffer before the client is cut as not reading. Default 16 MB. */
  maxBufferedBytes: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  recoveryWindowMs: 30_000,
  maxUnackedMessages: 1000,
  maxUnackedBytes: 16 * 1024 * 1024,
  maxQueuedMessages: 64,
  maxBufferedBytes: 16 * 1024 * 1024,
};
