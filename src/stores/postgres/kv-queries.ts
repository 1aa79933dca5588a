// The PostgreSQL statements of shared state (src/engine/kv.ts has the rules),
// as the SQLite store's (sqlite/kv-queries.ts). Keys compare by code point
// (the column is COLLATE "C"), as SQLite's do, whatever the database's collation.
import type { QueryName } from '../store.ts';

type KvQuery = Extract<QueryName, `kv${string}`>;

const live = `(kv.lease_key IS NULL OR EXISTS (SELECT 1 FROM leases AS l
  WHERE l.key = kv.lease_key AND l.token = kv.lease_token AND (l.expires_at IS NULL OR l.expires_at > $now::bigint)))`;

export const postgresKvQueries: Record<KvQuery, string> = {
  kvGet: `SELECT kv.*, ${live} AS live FROM kv WHERE key = $key`,
  // A range of the primary key ([prefix, upper), src/engine/kv.ts prefixEnd), in the key's collation "C" (code-point order for UTF-8).
  // Rows that begin past $maxBytes of values are passed over, not returned (the one that reaches past it says there is more).
  kvList: `SELECT * FROM (SELECT kv.*, SUM(octet_length(kv.value)) OVER (ORDER BY kv.key) AS upto FROM kv
      WHERE key >= $prefix::text COLLATE "C" AND key < $upper::text COLLATE "C" AND key > $after::text COLLATE "C" AND ${live}
      ORDER BY key LIMIT $limit) AS page
    WHERE upto - octet_length(value) <= $maxBytes ORDER BY key`,
  kvUpsert: `INSERT INTO kv (key, value, create_revision, mod_revision, version, lease_key, lease_token)
    VALUES ($key, $value, $createRevision, $modRevision, $version, $leaseKey, $leaseToken)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, create_revision = excluded.create_revision, mod_revision = excluded.mod_revision,
      version = excluded.version, lease_key = excluded.lease_key, lease_token = excluded.lease_token`,
  kvDelete: `DELETE FROM kv WHERE key = $key`,
  // Only the leased keys, through kv_lease (in its order: ORDER BY key would read the whole table in key order).
  kvStale: `SELECT kv.* FROM kv WHERE kv.lease_key IS NOT NULL AND NOT ${live} ORDER BY kv.lease_key, kv.lease_token LIMIT $limit`,
  // The seq comes from event_head as every event's does (queries.ts, nextSeqs): handed out in commit order.
  kvEventInsert: `WITH head AS (UPDATE event_head SET seq = seq + 1 RETURNING seq)
    INSERT INTO events (seq, at, type, key, actor, data)
    SELECT head.seq, $now::bigint, $type::text, $key::text, NULL,
      '{"revision":' || head.seq || CASE WHEN $created::int = 1 THEN ',"createRevision":' || head.seq ELSE '' END || ',' || substr($data::text, 2)
    FROM head RETURNING seq`,
};

/** In a write: a put or delete holds its key's row until it commits; the sweeper passes over rows a writer holds (it deals with them itself). */
export const postgresKvWriteQueries: Partial<Record<KvQuery, string>> = {
  kvGet: `${postgresKvQueries.kvGet} FOR UPDATE`,
  kvStale: `${postgresKvQueries.kvStale} FOR UPDATE SKIP LOCKED`,
};
