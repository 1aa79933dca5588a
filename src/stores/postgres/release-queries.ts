// The PostgreSQL statements of release requests, as in the SQLite store's
// release-queries.ts. An answer is a conditional update (state = 'pending'),
// so of a holder's answer and the sweeper's at once only the first counts.
import type { QueryName } from '../store.ts';

type ReleaseQuery = Extract<QueryName, `release${string}`>;

const heldTest = `EXISTS (SELECT 1 FROM leases AS l WHERE l.key = r.key AND l.token = r.token AND (l.expires_at IS NULL OR l.expires_at > $now::bigint))`;
const held = `${heldTest} AS held`;

export const postgresReleaseQueries: Record<ReleaseQuery, string> = {
  releaseInsert: `INSERT INTO release_requests (key, token, holder, asker, reason, state, created_at, expires_at)
    VALUES ($key, $token, $holder, $asker, $reason, 'pending', $now, $expiresAt) RETURNING id`,
  releaseGet: `SELECT r.*, ${held} FROM release_requests AS r WHERE r.id = $id`,
  releasePending: `SELECT r.*, true AS held FROM release_requests AS r WHERE r.key = $key AND r.token = $token AND r.asker = $asker AND r.state = 'pending'`,
  releaseSetThread: `UPDATE release_requests SET thread = $thread WHERE id = $id`,
  // Through the partial index release_requests_pending, unordered (the engine sorts), as SQLite's.
  releaseDue: `SELECT r.*, ${held} FROM release_requests AS r WHERE r.state = 'pending' AND (r.expires_at <= $now::bigint OR NOT ${heldTest})`,
  releaseAnswer: `UPDATE release_requests SET state = $state, answer = $answer, answered_at = $now WHERE id = $id AND state = 'pending'`,
  // $state matches the state as it stands now, as SQLite's.
  releaseList: `SELECT * FROM (SELECT r.*, ${held} FROM release_requests AS r
      WHERE ($key::text IS NULL OR r.key = $key) AND ($holder::text IS NULL OR r.holder = $holder) AND ($asker::text IS NULL OR r.asker = $asker)) AS r
    WHERE ($state::text IS NULL OR CASE WHEN r.state <> 'pending' THEN r.state WHEN NOT r.held THEN 'released' WHEN r.expires_at <= $now::bigint THEN 'lapsed'
      ELSE 'pending' END = $state)
    ORDER BY r.id DESC LIMIT $limit`,
  releasePrune: `DELETE FROM release_requests WHERE state <> 'pending' AND answered_at < $before`,
};
