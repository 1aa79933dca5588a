// The SQLite statements of the project list (src/server/projects.ts has the rules).
import type { QueryName } from '../store.ts';

type ProjectQuery = Extract<QueryName, `project${string}`>;

export const sqliteProjectQueries: Record<ProjectQuery, string> = {
  projectList: `SELECT * FROM projects ORDER BY home DESC, name`,
  projectGet: `SELECT * FROM projects WHERE name = $name`,
  projectHome: `SELECT * FROM projects WHERE home = 1`,
  projectInsert: `INSERT INTO projects (name, home, derived_from, created_at, archived_at) VALUES ($name, $home, $derivedFrom, $now, NULL)
    ON CONFLICT DO NOTHING`,
  projectArchive: `UPDATE projects SET archived_at = $now WHERE name = $name AND archived_at IS NULL AND home = 0`,
};
