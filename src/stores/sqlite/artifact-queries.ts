// The SQLite statements of task artifacts (src/engine/task-artifacts.ts has the rules).
import type { QueryName } from '../store.ts';

type ArtifactQuery = Extract<QueryName, `artifact${string}`>;

export const sqliteArtifactQueries: Record<ArtifactQuery, string> = {
  // $list: [{ taskId, seq, kind, value, hash, meta }], every completion's artifacts in one statement.
  artifactsInsert: `INSERT INTO task_artifacts (task_id, seq, kind, value, hash, meta)
    SELECT a.value ->> 'taskId', a.value ->> 'seq', a.value ->> 'kind', a.value ->> 'value', a.value ->> 'hash', a.value ->> 'meta'
    FROM json_each($list) AS a`,
  artifactsOf: `SELECT * FROM task_artifacts WHERE task_id = $taskId ORDER BY seq`,
  artifactsOfMany: `SELECT * FROM task_artifacts WHERE task_id IN (SELECT value FROM json_each($ids)) ORDER BY task_id, seq`,
  // Exact on the value or hash; with $lo, also a hex prefix [$lo, $hi) of a commit's sha or of a hash (both lower-case hex).
  artifactTaskIds: `SELECT DISTINCT task_id FROM task_artifacts
    WHERE task_id > $after AND (value = $q OR hash = $q OR value = $lower OR hash = $lower
      OR ($lo IS NOT NULL AND ((kind = 'commit' AND value >= $lo AND value < $hi) OR (hash >= $lo AND hash < $hi))))
    ORDER BY task_id LIMIT $limit`,
  artifactsDeleteTask: `DELETE FROM task_artifacts WHERE task_id = $id`,
};
