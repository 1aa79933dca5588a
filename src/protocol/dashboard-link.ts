// POST /v1/ui/link: what `baton ui` asks the daemon for, and gets.

/** A one-time sign-in link to the daemon's web dashboard. */
export interface DashboardLink {
  /** Open this: it signs the browser in once (the ticket is traded for a cookie), then shows the dashboard. */
  url: string;
  /** Where the dashboard is served: http://127.0.0.1:<port>. */
  origin: string;
  /** A read-only session sees no actions, and the daemon refuses its mutations. */
  readOnly: boolean;
  /** The link works once, until then (ms since the epoch). */
  expiresAt: number;
}

export const DASHBOARD_LINK_PATH = '/v1/ui/link';
/** The header that carries a dashboard session's key beside its cookie (the cookie alone opens only the page). */
export const SESSION_KEY_HEADER = 'x-baton-session';
/** POST: signs every browser out of the dashboard; answers { ended }. */
export const DASHBOARD_SIGN_OUT_PATH = '/v1/ui/sign-out';
