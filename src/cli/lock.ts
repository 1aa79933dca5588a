// baton lock status|remove
import { readLock, removeLock, type LockHolder } from '../files/lock/lock.ts';
import { ExitCode, UsageError, parse, type Command } from './command.ts';

const usage = 'baton lock status <path> [--json] | baton lock remove <path> [--force] [--json]';

function describe(holder: LockHolder): string {
  const r = holder.record;
  const alive = holder.verdict.alive === null ? 'unknown (another host)' : holder.verdict.alive ? 'yes' : 'no';
  const lines = [
    `  ${r.type} lock, owner ${r.ownerId}${holder.verdict.stale ? ' (STALE)' : ''}`,
    `    pid ${r.pid} (ppid ${r.ppid}, uid ${r.uid}) on ${r.hostname}, alive: ${alive}`,
    `    acquired ${r.acquiredAt}, renewed ${holder.renewedAt}, ttl ${r.ttlMs === null ? 'none' : `${r.ttlMs} ms`}`,
  ];
  if (r.children.length > 0) lines.push(`    also kept alive by pid ${r.children.map((c) => c.pid).join(', ')}`);
  lines.push(`    ${holder.verdict.reason}`);
  return lines.join('\n');
}

export const lockCommand: Command = {
  name: 'lock',
  summary: 'inspect or remove a file lock',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { json: { type: 'boolean' }, force: { type: 'boolean' } }, usage);
    const [action, path, ...extra] = positionals;
    if (values.help || action === undefined) {
      process.stdout.write(
        `usage: ${usage}\n\n` +
          '  status   show whether <path> is locked, by whom, and whether the holder is alive\n' +
          '  remove   remove a stale lock on <path>; a live one only with --force\n\n' +
          'exit codes: 0 done, 1 error, 2 bad usage, 3 a live lock was kept (remove without --force)\n',
      );
      return values.help ? ExitCode.ok : ExitCode.usage;
    }
    if (path === undefined || extra.length > 0) throw new UsageError(`expected exactly one path\nusage: ${usage}`);
    if (action === 'status') {
      if (values.force) throw new UsageError('--force only applies to lock remove');
      const info = await readLock(path);
      if (values.json) {
        process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      } else {
        process.stdout.write(`${info.state === 'unlocked' ? 'unlocked' : info.state}: ${info.lockPath}\n`);
        if (info.state === 'corrupt') process.stdout.write(`  ${info.message}\n`);
        for (const holder of info.holders) process.stdout.write(`${describe(holder)}\n`);
        if (info.waiting.length > 0) {
          const who = info.waiting.map((w) => `pid ${w.record.pid}${w.verdict.alive === false ? ' (gone)' : ''}`).join(', ');
          process.stdout.write(`  ${info.waiting.length} waiting: ${who}\n`);
        }
      }
      return ExitCode.ok;
    }
    if (action === 'remove') {
      const result = await removeLock(path, { force: values.force === true });
      if (values.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      } else {
        if (result.removed.length === 0 && result.kept.length === 0) process.stdout.write(`nothing to remove: ${path} is not locked\n`);
        for (const h of result.removed) process.stdout.write(`removed ${h.record.type} lock of pid ${h.record.pid} on ${h.record.hostname}\n`);
        for (const h of result.kept) process.stdout.write(`kept live ${h.record.type} lock of pid ${h.record.pid} on ${h.record.hostname} (use --force to remove it)\n`);
      }
      return result.kept.length > 0 ? ExitCode.kept : ExitCode.ok;
    }
    throw new UsageError(`unknown lock action ${JSON.stringify(action)}\nusage: ${usage}`);
  },
};
