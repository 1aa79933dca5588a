// The PostgreSQL statements of the project list, as the SQLite store's (sqlite/project-queries.ts).
import type { QueryName } from '../store.ts';

type ProjectQuery = Extract<QueryName, `project${string}`>;

export const postgresProjectQueries: Record<ProjectQuery, string> = {
  projectList: `SELECT * FROM projects ORDER BY home DESC, name`,
  projectGet: `SELECT * FROM projects WHERE name = $name`,
  projectHome: `SELECT * FROM projects WHERE home`,
  projectInsert: `INSERT INTO projects (name, home, derived_from, created_at, archived_at) VALUES ($name, $home::int = 1, $derivedFrom, $now, NULL)
    ON CONFLICT DO NOTHING`,
  projectArchive: `UPDATE projects SET archived_at = $now WHERE name = $name AND archived_at IS NULL AND NOT home`,
};
