// A server-sent events reader that reconnects: after a drop it waits the
// server's retry interval and resumes with Last-Event-ID, so no event is
// missed or seen twice. The id comes from events and from id-only blocks.
import type { HttpTransport } from './transport.ts';

export interface StreamHandlers {
  onMessage(data: unknown, id: string | undefined): void;
  /** Called on each (re)connection that the server accepted. */
  onOpen?(): void;
  /** Called when a connection ends; return false to stop reconnecting. */
  onDrop?(error: unknown): boolean | void;
  /** A final refusal (4xx): the stream stops. */
  onRefused?(status: number, body: string): void;
}

export interface StreamHandle {
  close(): void;
}

export function openStream(transport: HttpTransport, path: string, handlers: StreamHandlers, lastEventId?: string): StreamHandle {
  let closed = false;
  let retryMs = 1000;
  let lastId = lastEventId;
  let controller: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    if (closed) return;
    controller = new AbortController();
    let dropError: unknown;
    try {
      const res = await transport.open(path, {
        headers: { accept: 'text/event-stream', ...(lastId === undefined ? {} : { 'last-event-id': lastId }) },
        signal: controller.signal,
        agent: false,
      });
      if ((res.statusCode ?? 0) >= 400) {
        let body = '';
        for await (const chunk of res) body += String(chunk);
        if (res.statusCode! < 500 && res.statusCode !== 429) {
          closed = true;
          handlers.onRefused?.(res.statusCode!, body);
          return;
        }
        throw new Error(`the daemon answered ${res.statusCode}`);
      }
      res.setEncoding('utf8');
      // Like the engine's timers, a stream alone does not keep the process alive.
      res.socket.unref();
      handlers.onOpen?.();
      let buffer = '';
      let data: string[] = [];
      let id: string | undefined;
      for await (const chunk of res) {
        buffer += chunk as string;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).replace(/\r$/, '');
          buffer = buffer.slice(newline + 1);
          if (line === '') {
            // An id-only block (the server saying where the stream starts) moves the resume point but is no event.
            if (id !== undefined) lastId = id;
            if (data.length > 0) {
              const text = data.join('\n');
              data = [];
              let parsed: unknown = text;
              try {
                parsed = JSON.parse(text);
              } catch {
                // a non-JSON payload is passed on as text
              }
              if (!closed) handlers.onMessage(parsed, id);
            }
            id = undefined;
            continue;
          }
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'data') data.push(value);
          else if (field === 'id') id = value;
          else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
        }
      }
    } catch (error) {
      dropError = error;
    }
    if (closed) return;
    if (handlers.onDrop?.(dropError) === false) {
      closed = true;
      return;
    }
    timer = setTimeout(() => void connect(), retryMs * (0.5 + Math.random()));
    timer.unref();
  };
  void connect();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      controller?.abort();
    },
  };
}
