// What a caller reads when the daemon refuses: the operation it called and the
// values it sent, never the name of a method inside baton.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { startDaemon } from '../../support/daemon.ts';
import { tempDir } from '../helpers/procs.ts';

const run = promisify(execFile);

async function curl(socket: string, path: string, body: string, headers: string[] = []): Promise<{ status: number; body: string }> {
  const args = ['-s', '-w', '\n%{http_code}', '--unix-socket', socket, '-H', 'content-type: application/json', ...headers.flatMap((h) => ['-H', h]), '-d', body, `http://baton${path}`];
  const { stdout } = await run('curl', args);
  const at = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) };
}

test('reusing an idempotency key on /v1/addTask with another body is IDEMPOTENCY_MISMATCH naming the key, not an internal method', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t, 'baton-wording-');
  const daemon = await startDaemon(join(dir, '.baton'), { cwd: dir });
  t.after(() => daemon.stop());
  const socket = daemon.record.socket!;
  const first = await curl(socket, '/v1/addTask', '{"spec":{"title":"fix login"}}', ['Idempotency-Key: k1']);
  assert.equal(first.status, 200, first.body);
  const replay = await curl(socket, '/v1/addTask', '{"spec":{"title":"fix login"}}', ['Idempotency-Key: k1']);
  assert.equal(replay.status, 200);
  assert.equal((JSON.parse(replay.body) as { id: number }).id, (JSON.parse(first.body) as { id: number }).id, 'the same request under the same key is answered with the first result');
  const other = await curl(socket, '/v1/addTask', '{"spec":{"title":"update docs"}}', ['Idempotency-Key: k1']);
  assert.equal(other.status, 409, other.body);
  const { error } = JSON.parse(other.body) as { error: { code: string; message: string } };
  assert.equal(error.code, 'IDEMPOTENCY_MISMATCH');
  assert.match(error.message, /"k1"/);
  assert.doesNotMatch(error.message, /addTasks/, 'the engine method behind addTask is not the caller\'s business');
  assert.match(error.message, /new key/, 'the message says what to do');
});
