// A bench process that runs the baton found at <root>: this checkout, or the
// previous release unpacked elsewhere (bench/previous-release.ts), so both
// versions go through the same code here.
// Usage: release-compare.ts <root> <target> <project|-> <mode> <warm ms> [tasks]
//   <target>   sqlite:<db> (the engine in this process) or socket:<path> (a daemon, through the client)
//   <project>  the client's `project` option (daemon only); '-' for none
//   <mode>     setup: make the project and check it is apart from the home one, set the
//                generous quotas (where the version has them), add <tasks> tasks; prints `setup <json>`
//              claim: claim 1 + complete, one at a time; lease: acquire + release of
//                this process's own keys, bound to its session. Both warm up for
//                <warm ms> and print 'ready'; then each stdin line `go <ms>` runs
//                that long and prints `result <pairs> <elapsed ms> <drained 0|1>`,
//                until `end` (or stdin closes): short slices, so the bench can
//                alternate the two versions often while both stay warm.
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Coordinator } from '../../src/index.ts';

const [root, target, projectArg, mode, warmArg, tasksArg] = process.argv.slice(2) as [string, string, string, string, string, string?];
const project = projectArg === '-' ? undefined : projectArg;
const QUEUE = 'bench';
/** Every check runs, none refuses: far above what the bench holds or queues. */
const GENEROUS = { 'claims-per-agent': 1000, 'leases-per-session': 1000, 'queued-tasks': 1_000_000 } as const;

async function open(withProject: string | undefined): Promise<Coordinator> {
  if (target.startsWith('sqlite:')) {
    const m = (await import(join(root, 'src/index.ts'))) as typeof import('../../src/index.ts');
    return m.openCoordinator({ url: target });
  }
  const m = (await import(join(root, 'src/client/index.ts'))) as typeof import('../../src/client/index.ts');
  // Built loosely: a version whose client has no `project` option still compiles and ignores it.
  const options: Record<string, unknown> = { url: `baton+unix://${encodeURIComponent(target.slice('socket:'.length))}` };
  if (withProject !== undefined) options.project = withProject;
  return m.openCoordinator(options);
}

let c = await open(project);
const now = (): number => Number(process.hrtime.bigint()) / 1e6;

async function setQuotas(): Promise<string> {
  // Coordinator.setQuota is issue 34's: older versions (and a half-built one) lack it.
  const set = (c as unknown as { setQuota?: (q: { quota: string; limit: number; agent?: string }) => Promise<unknown> }).setQuota;
  if (typeof set !== 'function') return 'not available (no setQuota)';
  try {
    for (const [quota, limit] of Object.entries(GENEROUS)) await set.call(c, { quota, limit });
    return `on (${Object.entries(GENEROUS).map(([q, l]) => `${q} ${l}`).join(', ')})`;
  } catch (error) {
    return `not available (setQuota: ${(error as Error).message.slice(0, 160)})`;
  }
}

/** 'on' when a lease taken in the project is invisible from the home project. */
async function checkProject(): Promise<string> {
  if (project === undefined) return 'off (not asked)';
  if (!target.startsWith('socket:')) return 'off (embedded: home project)';
  const home = await open(undefined);
  try {
    // A project exists once an admin makes it (the socket's user is one); a daemon without projects has no projectCreate.
    // A version without projects answers the operation with an error, caught below: the rows then say projects are off.
    await (home as unknown as { daemonOperation(name: string, body: object): Promise<unknown> }).daemonOperation('projectCreate', { name: project });
    const key = `${QUEUE}/project-probe`;
    const lease = await c.acquire(key, { owner: 'bench', timeoutMs: 0 });
    const seenHome = (await home.listLeases({ prefix: key })).length;
    const seenHere = (await c.listLeases({ prefix: key })).length;
    await c.release(lease);
    if (seenHere === 1 && seenHome === 0) return 'on';
    return `off (the client's project option did not separate it: the home project sees the probe lease)`;
  } catch (error) {
    return `off (${(error as Error).message.slice(0, 160)})`;
  } finally {
    await home.close();
  }
}

if (mode === 'setup') {
  const projects = await checkProject();
  if (!projects.startsWith('on') && project !== undefined) {
    // The rows then run in the home project, and say so.
    await c.close();
    c = await open(undefined);
  }
  const quotas = await setQuotas();
  const tasks = Number(tasksArg);
  for (let i = 0; i < tasks; i += 1000) await c.addTasks(Array.from({ length: Math.min(1000, tasks - i) }, (_, k) => ({ queue: QUEUE, title: `job ${i + k}` })));
  process.stdout.write(`setup ${JSON.stringify({ quotas, projects })}\n`);
} else {
  const session = await c.register({ name: `bench-${process.pid}` });
  let drained = false;
  let k = 0;
  // One pair; false once the queue is empty.
  const pair =
    mode === 'claim'
      ? async (): Promise<boolean> => {
          const [claim] = await c.claim(session.id, { queue: QUEUE, n: 1 });
          if (claim === undefined) return false;
          await c.complete(claim);
          return true;
        }
      : async (): Promise<boolean> => {
          const lease = await c.acquire(`${QUEUE}/${process.pid}/${k++ % 8}`, { owner: 'bench', sessionId: session.id, timeoutMs: 60_000 });
          await c.release(lease);
          return true;
        };
  const warmUntil = now() + Number(warmArg);
  while (now() < warmUntil) await pair();
  process.stdout.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'end') break;
    let n = 0;
    const started = now();
    const until = started + Number(line.split(' ')[1]);
    while (!drained && now() < until) {
      if (await pair()) n++;
      else drained = true;
    }
    process.stdout.write(`result ${n} ${now() - started} ${drained ? 1 : 0}\n`);
  }
  await c.endSession(session.id);
}
await c.close();
