// `baton serve` (or any baton command: the arguments are the CLI's) with a
// tracer provider registered before it starts, exporting to memory; each
// finished span is also appended as a JSON line to $BATON_SPANS_FILE, where a
// test in another process reads them.
import { appendFileSync } from 'node:fs';
import { registerInMemoryTracing } from './tracing.ts';

const file = process.env.BATON_SPANS_FILE;
if (file === undefined || file === '') throw new Error('traced-daemon.ts needs BATON_SPANS_FILE');
registerInMemoryTracing((spans) => appendFileSync(file, spans.map((s) => `${JSON.stringify(s)}\n`).join('')));
await import('../src/cli/main.ts');
