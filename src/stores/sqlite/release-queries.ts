// The SQLite statements of release requests (src/engine/release-requests.ts
// has the rules). `held`: the hold a request asks about is still there and
// not past its expiry (a lapsed lease the sweeper has not removed yet is gone).
import type { QueryName } from '../store.ts';

type ReleaseQuery = Extract<QueryName, `release${string}`>;

const heldTest = `EXISTS (SELECT 1 FROM leases AS l WHERE l.key = r.key AND l.token = r.token AND (l.expires_at IS NULL OR l.expires_at > $now))`;
const held = `${heldTest} AS held`;

export const sqliteReleaseQueries: Record<ReleaseQuery, string> = {
  releaseInsert: `INSERT INTO release_requests (key, token, holder, asker, reason, state, created_at, expires_at)
    VALUES ($key, $token, $holder, $asker, $reason, 'pending', $now, $expiresAt)`,
  releaseGet: `SELECT r.*, ${held} FROM release_requests AS r WHERE r.id = $id`,
  releasePending: `SELECT r.*, 1 AS held FROM release_requests AS r WHERE r.key = $key AND r.token = $token AND r.asker = $asker AND r.state = 'pending'`,
  releaseSetThread: `UPDATE release_requests SET thread = $thread WHERE id = $id`,
  // Pending, and either its hold ended or its time ran out: the sweeper answers these. Through the partial index
  // release_requests_pending (nothing pending: nothing read); unordered, as ORDER BY id would scan the table (the engine sorts).
  releaseDue: `SELECT r.*, ${held} FROM release_requests AS r WHERE r.state = 'pending' AND (r.expires_at <= $now OR NOT ${heldTest})`,
  // Only a pending request is answered: of two answers at once, the second changes nothing.
  releaseAnswer: `UPDATE release_requests SET state = $state, answer = $answer, answered_at = $now WHERE id = $id AND state = 'pending'`,
  // $state matches the state as it stands now (src/engine/release-requests.ts, listReleaseRequests): a pending
  // request whose hold ended is 'released', one whose time ran out 'lapsed', before the sweeper records it.
  releaseList: `SELECT * FROM (SELECT r.*, ${held} FROM release_requests AS r
      WHERE ($key IS NULL OR r.key = $key) AND ($holder IS NULL OR r.holder = $holder) AND ($asker IS NULL OR r.asker = $asker)) AS r
    WHERE ($state IS NULL OR CASE WHEN r.state <> 'pending' THEN r.state WHEN NOT r.held THEN 'released' WHEN r.expires_at <= $now THEN 'lapsed'
      ELSE 'pending' END = $state)
    ORDER BY r.id DESC LIMIT $limit`,
  releasePrune: `DELETE FROM release_requests WHERE state <> 'pending' AND answered_at < $before`,
};
