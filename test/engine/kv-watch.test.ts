// A watch from a revision whose events the retention pruned says `compacted`
// and ends (etcd's compaction is baton's event retention): on SQLite and on
// PostgreSQL, with a retention of the newest 3 events.
import { openCoordinator } from '../../src/index.ts';
import { postgresPerFile } from '../../support/postgres.ts';
import { kvCompactionCase } from './conformance-kv.ts';

const retention = { maxCount: 3 };
const postgres = postgresPerFile('baton-pg-kv-watch-');

kvCompactionCase('sqlite :memory:', () => openCoordinator({ url: 'sqlite::memory:', retention }));
kvCompactionCase('postgres', async () => openCoordinator({ url: await postgres.databases.fresh(), retention }));
