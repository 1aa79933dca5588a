// The PostgreSQL statements of task artifacts, as the SQLite store's
// (sqlite/artifact-queries.ts). Hex ranges compare by code point (COLLATE "C"),
// as SQLite's do, whatever the database's collation.
import type { QueryName } from '../store.ts';

type ArtifactQuery = Extract<QueryName, `artifact${string}`>;

export const postgresArtifactQueries: Record<ArtifactQuery, string> = {
  artifactsInsert: `INSERT INTO task_artifacts (task_id, seq, kind, value, hash, meta)
    SELECT a."taskId", a.seq, a.kind, a.value, a.hash, a.meta
    FROM jsonb_to_recordset($list::jsonb) AS a("taskId" bigint, seq integer, kind text, value text, hash text, meta text)`,
  artifactsOf: `SELECT * FROM task_artifacts WHERE task_id = $taskId::bigint ORDER BY seq`,
  artifactsOfMany: `SELECT * FROM task_artifacts WHERE task_id IN (SELECT value::bigint FROM jsonb_array_elements_text($ids::jsonb))
    ORDER BY task_id, seq`,
  artifactTaskIds: `SELECT DISTINCT task_id FROM task_artifacts
    WHERE task_id > $after::bigint AND (value = $q::text OR hash = $q::text OR value = $lower::text OR hash = $lower::text
      OR ($lo::text IS NOT NULL AND ((kind = 'commit' AND value COLLATE "C" >= $lo::text AND value COLLATE "C" < $hi::text)
        OR (hash COLLATE "C" >= $lo::text AND hash COLLATE "C" < $hi::text))))
    ORDER BY task_id LIMIT $limit::int`,
  artifactsDeleteTask: `DELETE FROM task_artifacts WHERE task_id = $id::bigint`,
};
