// Where the daemon is and how to authenticate to it (no Node types: this is part of the published API).
export interface Endpoint {
  /** A unix socket path or Windows named pipe. */
  socketPath?: string;
  host?: string;
  port?: number;
  /** Bearer API token (TCP). */
  token?: string;
  /** HMAC secret (the hex of the daemon's hmac.key, or its bytes), instead of a token. */
  hmacSecret?: string | Uint8Array;
}
