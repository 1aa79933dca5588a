// Applying the schema: every migration this baton knows and the database
// lacks, in one transaction under one advisory lock, so two daemons starting
// at once never both migrate (the second waits, then finds nothing to do).
// A database migrated by a newer baton is refused, not written to.
import type { ClientBase } from 'pg';
import { BatonError } from '../../errors.ts';
import { migrations, SCHEMA as HOME_SCHEMA } from './schema.ts';
import { lockId } from './statements.ts';

const MIGRATE_LOCK = lockId('baton:migrate');

export interface MigrationResult {
  from: number;
  to: number;
}

async function appliedVersion(client: ClientBase, SCHEMA: string): Promise<number | undefined> {
  const exists = await client.query<{ t: string | null }>(`SELECT to_regclass('${SCHEMA}.schema_migrations')::text AS t`);
  if (exists.rows[0]?.t === null || exists.rows[0]?.t === undefined) return undefined;
  const row = await client.query<{ v: number }>(`SELECT COALESCE(MAX(version), 0)::int AS v FROM ${SCHEMA}.schema_migrations`);
  return row.rows[0]?.v ?? 0;
}

function tooNew(version: number, target: string): BatonError {
  return new BatonError(
    'STORE_ERROR',
    `the database at ${target} has schema version ${version}, newer than this baton knows (${migrations.length}): upgrade baton, or point it at another database`,
    { details: { store: 'postgres', target, schemaVersion: version, known: migrations.length } },
  );
}

/** Brings the schema up to date (or leaves it, if it is); refuses a newer one. */
export async function migrate(client: ClientBase, target: string, SCHEMA = HOME_SCHEMA): Promise<MigrationResult> {
  const seen = await appliedVersion(client, SCHEMA);
  if (seen !== undefined && seen > migrations.length) throw tooNew(seen, target);
  if (seen === migrations.length) return { from: seen, to: seen };
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATE_LOCK]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const from = (await appliedVersion(client, SCHEMA)) ?? 0;
    if (from > migrations.length) throw tooNew(from, target);
    await client.query(`SET LOCAL search_path TO ${SCHEMA}`);
    for (let version = from + 1; version <= migrations.length; version++) {
      await client.query(migrations[version - 1]!);
      await client.query(`INSERT INTO ${SCHEMA}.schema_migrations (version) VALUES ($1)`, [version]);
    }
    await client.query('COMMIT');
    return { from, to: migrations.length };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
