// Which generated fields name an entity of the run instead of a random
// value: mostly a live one ($session.id, $task.id, $lease, $claim), sometimes
// whatever the schema allows. And the paths and worktrees the file and git
// operations get: mostly hostile ones (out of the tree, through a symlink,
// into .git, with NUL), since a random string seldom escapes anything.
import * as fc from 'fast-check';
import type { At, Gen } from './schema-arbitrary.ts';
import { LongString, Ref, type Wire } from './wire-value.ts';

const fileOperations = new Set(['writeFile', 'deleteFile', 'renameFile', 'readFile']);
const taskById = new Set(['getTask', 'updateTask', 'removeTask', 'reorderTask', 'cancel']);

const fixed = (value: Wire): Gen => ({ value, refusals: [] });
const ref = (fixture: string, field?: string): fc.Arbitrary<Gen> => fc.constant(fixed(new Ref(fixture, field)));

/** Paths a file or git operation must keep inside the project (or refuse). */
const hostilePaths: fc.Arbitrary<Gen> = fc
  .constantFrom<Wire>(
    'src/a.txt', 'src/new.txt', 'new dir/ü.txt', '../sentinel/planted', 'escape/planted', 'escape/new', 'escape', 'src/../../sentinel/planted',
    '.git/config', '.git/baton/baton.db', '.git', 'a\u0000b', '/etc/passwd', '~/x', '.', '..', 'src/', '-rf', '--', ':(top)escape', ':/', '*', '..\\sentinel\\planted',
    new Ref('sentinelFile'), new Ref('sentinelDir'), new LongString('a', 4096), new LongString('a/', 2048),
  )
  .map(fixed);

/** Worktrees: the project's own, and directories that are not one of its worktrees. */
const hostileWorktrees: fc.Arbitrary<Gen> = fc.constantFrom<Wire>(new Ref('sentinelDir'), '/', '/tmp', 'project', '.', '/nonexistent').map(fixed);

const wellKnownKeys: fc.Arbitrary<Gen> = fc.constantFrom<Wire>('git', 'repo', 'path:**', 'path:src/**', 'path:src/a.txt', 'path:../x', 'path:/etc/**', 'path:', 'path:escape/**').map(fixed);

/** The hook for schema arbitraries: a field's arbitrary when it names an entity, else undefined (the schema's own). */
export function references(at: At, own: () => fc.Arbitrary<Gen>): fc.Arbitrary<Gen> | undefined {
  const { operation, path } = at;
  const field = path.at(-1);
  const parent = path.at(-2);
  const top = path.length === 1;
  const mostly = (fixture: fc.Arbitrary<Gen>): fc.Arbitrary<Gen> => fc.oneof({ weight: 3, arbitrary: fixture }, { weight: 1, arbitrary: own() });
  // A key of its own for each request (a repeated one keeps it): a shared key would make most requests replays or mismatches.
  if (top && field === 'idempotencyKey') return mostly(ref('idempotencyKey'));
  if (field === 'sessionId') return mostly(ref('session', 'id'));
  if ((top && field === 'id' && taskById.has(operation)) || ((field === 'before' || field === 'after') && parent === 'to')) return mostly(ref('task', 'id'));
  if (field === '[]' && (parent === 'ids' || parent === 'dependsOn')) return mostly(ref('task', 'id'));
  if (top && field === 'version') return mostly(ref('task', 'version'));
  if (field === 'lease') return mostly(ref(fileOperations.has(operation) ? 'pathLease' : 'lease'));
  if (field === 'claim') return mostly(ref('claim'));
  if (parent === '[]' && path[0] === 'items' && (field === 'taskId' || field === 'token')) return mostly(ref('claim', field));
  if (field === 'reservationId') return mostly(ref('reservation', 'id'));
  // A queue of the run's own with a ready task: a claim then has something to claim on a fresh daemon too.
  if (top && field === 'queue' && (operation === 'claim' || operation === 'listTasks' || operation === 'taskCounts')) return mostly(ref('queue', 'name'));
  if (field === 'worktree') return fc.oneof({ weight: 3, arbitrary: ref('worktree') }, { weight: 1, arbitrary: hostileWorktrees }, { weight: 1, arbitrary: own() });
  if ((fileOperations.has(operation) && top && (field === 'path' || field === 'from' || field === 'to')) || (operation === 'gitCommit' && parent === 'paths')) {
    return fc.oneof({ weight: 3, arbitrary: hostilePaths }, { weight: 1, arbitrary: own() });
  }
  if (top && field === 'key') return fc.oneof({ weight: 2, arbitrary: own() }, { weight: 1, arbitrary: wellKnownKeys }, { weight: 1, arbitrary: ref('lease', 'key') });
  return undefined;
}
