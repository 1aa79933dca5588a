// The SQLite statements of shared state (src/engine/kv.ts has the rules).
import type { QueryName } from '../store.ts';

type KvQuery = Extract<QueryName, `kv${string}`>;

/** The key is not bound to a lease, or its lease still holds ($now: the store's clock). */
const live = `(kv.lease_key IS NULL OR EXISTS (SELECT 1 FROM leases AS l
  WHERE l.key = kv.lease_key AND l.token = kv.lease_token AND (l.expires_at IS NULL OR l.expires_at > $now)))`;

export const sqliteKvQueries: Record<KvQuery, string> = {
  kvGet: `SELECT kv.*, ${live} AS live FROM kv WHERE key = $key`,
  // A range of the primary key ([prefix, upper), src/engine/kv.ts prefixEnd): BINARY compares UTF-8 bytes, which is code-point order.
  // Rows that begin past $maxBytes of values are passed over, not returned (the one that reaches past it says there is more).
  kvList: `SELECT * FROM (SELECT kv.*, SUM(octet_length(kv.value)) OVER (ORDER BY kv.key) AS upto FROM kv
      WHERE key >= $prefix AND key < $upper AND key > $after AND ${live} ORDER BY key LIMIT $limit)
    WHERE upto - octet_length(value) <= $maxBytes ORDER BY key`,
  kvUpsert: `INSERT INTO kv (key, value, create_revision, mod_revision, version, lease_key, lease_token)
    VALUES ($key, $value, $createRevision, $modRevision, $version, $leaseKey, $leaseToken)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, create_revision = excluded.create_revision, mod_revision = excluded.mod_revision,
      version = excluded.version, lease_key = excluded.lease_key, lease_token = excluded.lease_token`,
  kvDelete: `DELETE FROM kv WHERE key = $key`,
  // Only the leased keys, through kv_lease (in its order: ORDER BY key would read the whole table in key order).
  kvStale: `SELECT kv.* FROM kv WHERE kv.lease_key IS NOT NULL AND NOT ${live} ORDER BY kv.lease_key, kv.lease_token LIMIT $limit`,
  // An event whose data begins with its own seq, the change's revision (and createRevision, for a put that
  // creates the key): $data is the rest, as JSON object text. The seq is the one events would give it.
  kvEventInsert: `INSERT INTO events (seq, at, type, key, actor, data)
    SELECT n, $now, $type, $key, NULL, '{"revision":' || n || CASE WHEN $created = 1 THEN ',"createRevision":' || n ELSE '' END || ',' || substr($data, 2)
    FROM (SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM events)`,
};
