// Bodies and request parts a fuzzer sent that the daemon answered with a 500
// or took in a form other than the one sent. Each is a 400 naming what is
// wrong, and nothing happens.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { MAX_JSON_DEPTH } from '../../src/limits.ts';
import { startDaemon, type RunningDaemon } from '../../support/daemon.ts';
import { send as sendRequest } from '../../support/fuzz/http-client.ts';
import { errorOf, post, send, type Answer } from '../helpers/socket-http.ts';
import { tempDir } from '../helpers/procs.ts';

function refused(answer: Answer, ...words: string[]): void {
  const where = `${answer.status} ${answer.body}`;
  assert.equal(answer.status, 400, where);
  assert.equal(errorOf(answer)?.code, 'INVALID_ARGUMENT', where);
  for (const word of words) assert.ok(errorOf(answer)!.message.includes(word), `names ${JSON.stringify(word)}: ${where}`);
}

async function daemonIn(t: TestContext): Promise<RunningDaemon> {
  const dir = tempDir(t);
  const daemon = await startDaemon(join(dir, 'state'), { cwd: dir });
  t.after(() => daemon.stop());
  return daemon;
}

/** JSON text of `levels` nested objects around 1: {"a":{"a":1}} is 2. */
const nested = (levels: number): string => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);

async function lastSeq(socket: string): Promise<number> {
  const events = (await post(socket, 'events', { limit: 100_000 })).json as Array<{ seq: number }>;
  return events.at(-1)?.seq ?? 0;
}

test('every JSON field has one nesting limit: past it is a 400 naming the field (publish answered 500)', async (t) => {
  const daemon = await daemonIn(t);
  const socket = daemon.record.socket!;
  const seq = await lastSeq(socket);
  const deep = nested(5000);
  refused(await post(socket, 'publish', `{"type":"x","data":${deep}}`), 'body.data', String(MAX_JSON_DEPTH));
  refused(await post(socket, 'addTask', `{"spec":{"title":"t","payload":${deep}}}`), 'body.spec.payload', String(MAX_JSON_DEPTH));
  refused(await post(socket, 'completeMany', `{"items":[{"taskId":1,"token":1,"result":${nested(MAX_JSON_DEPTH + 1)}}]}`), 'body.items[0].result', String(MAX_JSON_DEPTH));
  refused(await post(socket, 'addTask', `{"spec":{"title":"t","payload":${nested(MAX_JSON_DEPTH + 1)}}}`), 'body.spec.payload');
  assert.equal(await lastSeq(socket), seq, 'nothing was published or added');

  // At the limit: taken, and given back as sent.
  const atLimit = await post(socket, 'publish', `{"type":"x","data":${nested(MAX_JSON_DEPTH)}}`);
  assert.equal(atLimit.status, 200, atLimit.body);
  assert.deepEqual((atLimit.json as { data: unknown }).data, JSON.parse(nested(MAX_JSON_DEPTH)));
  const task = await post(socket, 'addTask', `{"spec":{"title":"t","payload":${nested(MAX_JSON_DEPTH)}}}`);
  assert.equal(task.status, 200, task.body);
});

test('a body that is not UTF-8 is refused, not read with U+FFFD in place of its bytes', async (t) => {
  const daemon = await daemonIn(t);
  const socket = daemon.record.socket!;
  // Two different keys that replacement made one: the second acquire found the first holding "k\uFFFD".
  const body = (byte: number) => Buffer.concat([Buffer.from('{"key":"k'), Buffer.from([byte]), Buffer.from('","owner":"o","timeoutMs":0}')]);
  refused(await post(socket, 'acquire', body(0xff)), 'UTF-8');
  refused(await post(socket, 'acquire', body(0xfe)), 'UTF-8');
  // A truncated sequence and an encoded surrogate are not UTF-8 either.
  refused(await post(socket, 'acquire', body(0xe2)), 'UTF-8');
  refused(await post(socket, 'acquire', Buffer.concat([Buffer.from('{"key":"k'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('","owner":"o"}')])), 'UTF-8');
  assert.deepEqual((await post(socket, 'listLeases', {})).json, []);
  // Real UTF-8 is taken as it is.
  const ok = await post(socket, 'acquire', Buffer.from('{"key":"clé ✓","owner":"o"}'));
  assert.equal(ok.status, 200, ok.body);
  assert.equal((ok.json as { key: string }).key, 'clé ✓');
});

test('a lone surrogate (a \\u escape) is refused: the store would turn it into U+FFFD and two keys into one', async (t) => {
  const daemon = await daemonIn(t);
  const socket = daemon.record.socket!;
  refused(await post(socket, 'acquire', '{"key":"k\\ud800","owner":"o","timeoutMs":0}'), 'body.key', 'surrogate');
  refused(await post(socket, 'acquire', '{"key":"k\\udbff","owner":"o","timeoutMs":0}'), 'body.key', 'surrogate');
  refused(await post(socket, 'register', '{"name":"w","labels":{"\\udc00":"x"}}'), 'body.labels', 'surrogate');
  assert.deepEqual((await post(socket, 'listLeases', {})).json, []);
  // A pair is one character, and fine.
  assert.equal((await post(socket, 'acquire', '{"key":"k\\ud83d\\ude00","owner":"o"}')).status, 200);
});

test('a number past the largest double in free-form JSON is refused, not stored as null (the long fuzz run found 1e400)', async (t) => {
  const daemon = await daemonIn(t);
  const socket = daemon.record.socket!;
  const seq = await lastSeq(socket);
  refused(await post(socket, 'publish', '{"type":"x","data":{"n":1e400}}'), 'body.data.n', 'finite');
  refused(await post(socket, 'addTask', '{"spec":{"title":"t","payload":[1,-1e999]}}'), 'body.spec.payload[1]', 'finite');
  assert.equal(await lastSeq(socket), seq, 'nothing was published or added');
  // The largest finite double is taken and given back as sent.
  const big = await post(socket, 'publish', '{"type":"x","data":{"n":1.7976931348623157e308}}');
  assert.equal(big.status, 200, big.body);
  assert.equal((big.json as { data: { n: number } }).data.n, Number.MAX_VALUE);
});

test('a single-valued header sent twice is refused, not joined into one value', async (t) => {
  const daemon = await daemonIn(t);
  const socket = daemon.record.socket!;
  const seq = await lastSeq(socket);
  // Node joined them: the key "a, b" named a request neither copy meant.
  refused(await post(socket, 'publish', { type: 'x' }, { 'idempotency-key': ['a', 'b'] }), 'idempotency-key', 'more than once');
  refused(await post(socket, 'publish', { type: 'x' }, { 'Content-Type': ['application/json', 'text/plain'] }), 'content-type');
  assert.equal(await lastSeq(socket), seq, 'nothing was published');
  const once = await post(socket, 'publish', { type: 'x' }, { 'idempotency-key': 'a' });
  assert.equal(once.status, 200, once.body);
  const stream = await send(socket, 'GET', '/v1/events', '', { 'last-event-id': ['1', '2'] });
  refused(stream, 'last-event-id');
});

test('a request refused before its body is read still gets its answer while the client writes the body (it got EPIPE)', async (t) => {
  const daemon = await daemonIn(t);
  const socket = daemon.record.socket!;
  // Sent by a client with no agent (it asks to close after the answer), still writing the body when the answer comes.
  const publish = (headers: Array<[string, string]>, bytes: number) =>
    Promise.all([1, 2, 3].map(() => sendRequest({ via: 'unix', socketPath: socket }, { method: 'POST', path: '/v1/publish', headers, body: Buffer.from(JSON.stringify({ type: 'x', data: { s: 'a'.repeat(bytes) } })) }, 10_000)));
  const answered = (outcome: Awaited<ReturnType<typeof sendRequest>>, i: number): Answer => {
    assert.equal(outcome.kind, 'answer', `try ${i + 1}: ${JSON.stringify(outcome)}`);
    return outcome.kind === 'answer' ? { status: outcome.status, body: outcome.text, json: JSON.parse(outcome.text) } : (undefined as never);
  };
  // Without the drain, two runs of this test in three saw EPIPE in place of an answer (a race, so many tries).
  for (let i = 0; i < 40; i++) {
    // Refused on its headers, with 900 KB still to come.
    for (const outcome of await publish([['idempotency-key', 'k1'], ['idempotency-key', 'k2']], 900_000)) refused(answered(outcome, i), 'idempotency-key', 'more than once');
    // Past the 1 MiB limit: the 413 comes when the declared length is read.
    for (const outcome of await publish([], 1_200_000)) assert.equal(answered(outcome, i).status, 413);
  }
  assert.equal(await lastSeq(socket), 0, 'nothing was published');
});

test('a path too long for the file system is a 400 naming it, not a 500 from the daemon', async (t) => {
  const daemon = await daemonIn(t);
  const socket = daemon.record.socket!;
  const deep = 'a/'.repeat(2047) + 'a'; // 4095 characters, inside the protocol's bound, past the file system's
  refused(await post(socket, 'deleteFile', { path: deep }), 'too long', 'ENAMETOOLONG');
  refused(await post(socket, 'readFile', { path: 'b'.repeat(300) }), 'too long', 'ENAMETOOLONG');
});

test('a malformed percent-encoding in a path parameter is a 400, not "URI malformed" with a 500', async (t) => {
  const daemon = await daemonIn(t);
  const socket = daemon.record.socket!;
  refused(await send(socket, 'GET', '/v1/sessions/%E0%A4%A/attach'), 'session id', 'percent-encoded');
  refused(await send(socket, 'GET', '/v1/sessions/%FF/attach'), 'session id');
  const unknown = await send(socket, 'GET', '/v1/sessions/%61bc/attach');
  assert.equal(unknown.status, 404, unknown.body);
  assert.ok(errorOf(unknown)!.message.includes('"abc"'), unknown.body);
});

test('Last-Event-ID is a seq in decimal digits: 0x10 or 1e3 are refused, not read as 16 or 1000', async (t) => {
  const daemon = await daemonIn(t);
  const socket = daemon.record.socket!;
  for (const id of ['0x10', '1e3', '5.0', '-1', '99999999999999999']) refused(await send(socket, 'GET', '/v1/events', '', { 'last-event-id': id }), 'Last-Event-ID');
  refused(await send(socket, 'GET', '/v1/events?after=0x10'), 'after');
});
