/** Group streams one PubSub connection may write. */
export interface StreamLimits {
  /** Open streams one connection may have. Default 1000. */
  maxStreamsPerConnection: number;
  /** Idle timeout when the writer asks for none. Default 5 min (the client's own default). */
  defaultIdleTimeoutMs: number;
  /** The longest idle timeout a writer may ask for. Default 1 h. */
  maxIdleTimeoutMs: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxStreamsPerConnection: 1000,
  defaultIdleTimeoutMs: 300_000,
  maxIdleTimeoutMs: 3_600_000,
};

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
  /** Group streams of PubSub clients: open streams per connection and idle timeouts. */
  streams: StreamLimits;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  recoveryWindowMs: 30_000,
  maxUnackedMessages: 1000,
  maxUnackedBytes: 16 * 1024 * 1024,
  maxQueuedMessages: 64,
  maxBufferedBytes: 16 * 1024 * 1024,
  streams: DEFAULT_STREAM_LIMITS,
};
