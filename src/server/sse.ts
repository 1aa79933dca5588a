// Server-sent events framing (the WHATWG EventSource format): `id:` lines
// carry the event seq so a client resumes with Last-Event-ID; comments keep
// idle connections alive through proxies. A reader that stops reading is cut
// off rather than buffered without bound; it resumes from its last id.
// A stream that starts at "now" first says where now is: a block with only
// `id:` sets the reader's last event ID without dispatching an event (WHATWG
// spec), so a drop before the first event still resumes without a gap.
import type { ServerResponse } from 'node:http';

/** Bytes a slow reader may have queued before its stream is closed. */
const MAX_BUFFERED = 1 << 20;

export interface EventStream {
  send(data: unknown, id?: number): void;
  comment(text: string): void;
  readonly closed: boolean;
  close(): void;
}

export interface EventStreamOptions {
  keepAliveMs?: number;
  retryMs?: number;
  /** Sent at once as an id-only block: where a reconnect should resume (the seq the stream starts after). */
  startId?: number;
}

export function openEventStream(res: ServerResponse, options: EventStreamOptions = {}): EventStream {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  let closed = false;
  const write = (chunk: string): void => {
    if (closed) return;
    res.write(chunk);
    if (res.writableLength > MAX_BUFFERED) stream.close();
  };
  const timer = setInterval(() => write(': keep-alive\n\n'), options.keepAliveMs ?? 15_000);
  timer.unref();
  const stream: EventStream = {
    send(data, id) {
      write(`${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`);
    },
    comment(text) {
      write(`: ${text.replace(/\n/g, ' ')}\n\n`);
    },
    get closed() {
      return closed;
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      res.end();
    },
  };
  res.on('close', () => {
    closed = true;
    clearInterval(timer);
  });
  write(`retry: ${options.retryMs ?? 1000}\n\n${options.startId === undefined ? '' : `id: ${options.startId}\n\n`}`);
  return stream;
}
