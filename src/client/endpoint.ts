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
  /**
   * The path of the daemon's hmac.key, instead of the secret: read when it
   * changes, so requests are signed with the current key after a
   * `baton auth rotate-key`. (A copy in `hmacSecret` works until its overlap ends.)
   */
  hmacKeyFile?: string;
  /**
   * The project to work in, on a daemon that serves several (docs/projects.md):
   * sent as the x-baton-project header. Default: $BATON_PROJECT, else the
   * daemon's default project.
   */
  project?: string;
}
