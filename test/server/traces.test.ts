// Traces: the SDK's in-memory exporter in this process collects the client's
// spans, a daemon with a provider registered (support/traced-daemon.ts)
// writes its own, and each request's pair is joined by one trace id, the
// daemon's span a child of the client's (the client sent `traceparent`).
// `baton serve --otel` sends its spans with the OTLP/HTTP exporter to a
// receiver on loopback here. A client process with no provider registered
// loads no OpenTelemetry module at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { isBatonError } from '../../src/errors.ts';
import { startDaemon } from '../../support/daemon.ts';
import { root } from '../../support/paths.ts';
import { registerInMemoryTracing, spanRecord, type SpanRecord } from '../../support/tracing.ts';
import { sleep, startNode, tempDir } from '../helpers/procs.ts';

const { exporter } = registerInMemoryTracing();
const tracer = trace.getTracer('baton-test');

/** Until `found` says yes of what `read` gives (spans reach a file or a receiver a moment after the answer). */
async function eventually<T>(read: () => T, found: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = read();
    if (found(value)) return value;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(read())}`);
}

test('a client call and its daemon side are spans of one trace, the daemon\'s a child of the client\'s, with what a reader needs', async (t) => {
  const dir = tempDir(t);
  const spansFile = join(dir, 'daemon-spans.jsonl');
  const daemon = await startDaemon(join(dir, '.baton'), { cwd: dir, entry: join(root, 'support/traced-daemon.ts'), env: { BATON_SPANS_FILE: spansFile } });
  t.after(() => daemon.stop());
  const c = daemon.client();
  exporter.reset();
  const lease = await tracer.startActiveSpan('work', async (span) => {
    try {
      const held = await c.acquire('traced/key', { owner: 'tracer', ttlMs: 60_000 });
      await assert.rejects(c.acquire('traced/key', { owner: 'other', ttlMs: 60_000, timeoutMs: 0 }), (e) => isBatonError(e, 'LOCKED'));
      return held;
    } finally {
      span.end();
    }
  });
  await c.release(lease);

  const mine = exporter.getFinishedSpans().map(spanRecord);
  const work = mine.find((s) => s.name === 'work')!;
  const clientAcquires = mine.filter((s) => s.name === 'baton.acquire');
  assert.equal(clientAcquires.length, 2);
  for (const s of clientAcquires) {
    assert.equal(s.kind, SpanKind.CLIENT);
    assert.equal(s.traceId, work.traceId, 'the client span joins the caller\'s trace');
    assert.equal(s.parentSpanId, work.spanId);
  }
  const clientRelease = mine.find((s) => s.name === 'baton.release')!;
  assert.notEqual(clientRelease.traceId, work.traceId, 'a call outside the caller\'s span starts its own trace');

  const read = (): SpanRecord[] => (existsSync(spansFile) ? readFileSync(spansFile, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as SpanRecord) : []);
  const theirs = await eventually(read, (spans) => spans.filter((s) => s.name === 'baton.acquire').length === 2 && spans.some((s) => s.name === 'baton.release'), 'the daemon\'s spans');
  for (const client of [...clientAcquires, clientRelease]) {
    const server = theirs.find((s) => s.parentSpanId === client.spanId);
    assert.ok(server !== undefined, `the daemon's span for ${client.name} ${client.spanId}`);
    assert.equal(server.traceId, client.traceId);
    assert.equal(server.kind, SpanKind.SERVER);
    assert.equal(server.name, client.name);
    assert.equal(server.attributes['baton.operation'], client.name.slice('baton.'.length));
    assert.equal(server.attributes['baton.key'], 'traced/key');
    assert.match(String(server.attributes['baton.request_id']), /^[0-9a-f-]{36}$/);
  }
  const [granted, refused] = clientAcquires.map((client) => theirs.find((s) => s.parentSpanId === client.spanId)!);
  assert.equal(granted!.attributes['baton.outcome'], 'OK');
  assert.equal(granted!.attributes['http.response.status_code'], 200);
  assert.equal(typeof granted!.attributes['baton.waited_ms'], 'number');
  assert.equal(refused!.attributes['baton.outcome'], 'LOCKED');
  assert.equal(refused!.attributes['http.response.status_code'], 423);
  assert.equal(clientAcquires[1]!.attributes['baton.outcome'], 'LOCKED');
  assert.equal(clientAcquires[1]!.status, SpanStatusCode.ERROR);
});

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Array<{ key: string; value: { stringValue?: string; intValue?: string | number } }>;
}
interface OtlpExport {
  resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
}

/** OTLP/JSON ids are hex; some encoders send base64: either way, as hex. */
const hex = (id: string | undefined): string | undefined => (id === undefined || /^[0-9a-f]*$/.test(id) ? id : Buffer.from(id, 'base64').toString('hex'));

test('baton serve --otel sends its spans to an OTLP/HTTP receiver, continuing the client\'s trace', async (t) => {
  const received: OtlpExport[] = [];
  const receiver = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body = Buffer.concat(chunks);
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    if (req.url === '/v1/traces') received.push(JSON.parse(body.toString('utf8')) as OtlpExport);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  t.after(() => receiver.close());
  const { port } = receiver.address() as { port: number };

  const dir = tempDir(t);
  const daemon = await startDaemon(join(dir, '.baton'), {
    cwd: dir,
    args: ['--otel'],
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_SERVICE_NAME: 'baton-under-test' },
  });
  const c = daemon.client();
  exporter.reset();
  await c.release(await c.acquire('otel/key', { owner: 'otel', ttlMs: 60_000 }));
  const client = exporter.getFinishedSpans().map(spanRecord).find((s) => s.name === 'baton.acquire')!;
  // Stopping flushes what the batch processor still holds.
  assert.equal(await daemon.stop(), 0);
  const spans = await eventually(
    () => received.flatMap((e) => e.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((span) => ({ span, resource: r.resource }))))),
    (all) => all.some(({ span }) => hex(span.parentSpanId) === client.spanId),
    'the acquire span at the receiver',
  );
  const { span, resource } = spans.find(({ span }) => hex(span.parentSpanId) === client.spanId)!;
  assert.equal(span.name, 'baton.acquire');
  assert.equal(hex(span.traceId), client.traceId);
  assert.equal(span.attributes.find((a) => a.key === 'baton.key')?.value.stringValue, 'otel/key');
  assert.equal(resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue, 'baton-under-test');
});

test('a client process with no tracer provider registered loads no OpenTelemetry module and sends no traceparent', async (t) => {
  const dir = tempDir(t);
  const spansFile = join(dir, 'daemon-spans.jsonl');
  const daemon = await startDaemon(join(dir, '.baton'), { cwd: dir, entry: join(root, 'support/traced-daemon.ts'), env: { BATON_SPANS_FILE: spansFile } });
  t.after(() => daemon.stop());
  const child = startNode(join(root, 'test/workers/untraced-client.ts'), [daemon.record.socket!]);
  const done = await child.done;
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stdout, /^loaded: none\n/);
  // The daemon still traces (its provider is registered), each request as the root of a trace of its own.
  const spans = await eventually(
    () => (existsSync(spansFile) ? readFileSync(spansFile, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as SpanRecord) : []),
    (all) => all.some((s) => s.name === 'baton.release'),
    'the daemon\'s spans',
  );
  for (const s of spans.filter((s) => s.name === 'baton.acquire' || s.name === 'baton.release')) assert.equal(s.parentSpanId, null, s.name);
});
