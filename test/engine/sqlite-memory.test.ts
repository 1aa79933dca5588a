// The conformance suite on an in-memory SQLite database.
import { openCoordinator } from '../../src/index.ts';
import { conformance } from './conformance.ts';

conformance('sqlite :memory:', () => openCoordinator({ url: 'sqlite::memory:' }));
