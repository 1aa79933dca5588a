// One connection to GET /v1/events, read as server-sent events (the WHATWG
// format). fetch rather than EventSource, for three things EventSource hides:
// the id-only block the daemon sends first (where "now" is, so a stream that
// drops before any event still resumes without a gap), the HTTP status of a
// refusal, and request headers (a Bearer token). No reconnecting here: the
// connection (connection.ts) decides when and how to try again.
import { BatonError } from '../errors.ts';
import { answerError } from './http.ts';

export interface StreamHandlers {
  /** The daemon accepted the stream (200, text/event-stream). */
  onOpen(): void;
  /** An event's data and the id it carried. */
  onMessage(data: string, id: string | undefined): void;
  /** A block with an id and no data: the resume point moved, no event. */
  onId(id: string): void;
  /** The stream ended (error, refusal or end of body); called once, never after close(). */
  onEnd(error: BatonError): void;
}

export interface StreamHandle {
  close(): void;
}

export function openEventStream(target: string, headers: Record<string, string>, handlers: StreamHandlers): StreamHandle {
  const controller = new AbortController();
  let ended = false;
  const end = (error: BatonError): void => {
    if (ended) return;
    ended = true;
    handlers.onEnd(error);
  };

  void (async () => {
    let res: Response;
    try {
      res = await fetch(target, { headers: { accept: 'text/event-stream', ...headers }, cache: 'no-store', signal: controller.signal });
    } catch (error) {
      return end(new BatonError('UNAVAILABLE', `the event stream could not be opened: ${String((error as Error)?.message ?? error)}`, { cause: error }));
    }
    if (!res.ok) return end(answerError(res.status, await res.text().catch(() => '')));
    if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream') || res.body === null) {
      void res.body?.cancel();
      return end(new BatonError('UNAVAILABLE', `GET /v1/events answered ${res.headers.get('content-type') ?? 'no content type'}, not an event stream`));
    }
    if (ended) return void res.body.cancel();
    handlers.onOpen();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = blockParser(handlers);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || ended) break;
        parser(value);
      }
      end(new BatonError('UNAVAILABLE', 'the event stream ended'));
    } catch (error) {
      end(new BatonError('UNAVAILABLE', `the event stream broke: ${String((error as Error)?.message ?? error)}`, { cause: error }));
    }
  })();

  return {
    close() {
      ended = true;
      controller.abort();
    },
  };
}

/** Feeds text as it arrives; calls the handlers at each blank line (the end of a block). */
function blockParser(handlers: StreamHandlers): (chunk: string) => void {
  let buffer = '';
  let data: string[] = [];
  let id: string | undefined;
  return (chunk) => {
    buffer += chunk;
    // Lines end in \n, \r\n or \r; a \r last in the buffer may be half of a \r\n still to come.
    let start = 0;
    // Found once and again only when passed: a fresh search per line would rescan a long chunk with no \r each time.
    let cr = buffer.indexOf('\r');
    for (;;) {
      const nl = buffer.indexOf('\n', start);
      if (cr >= 0 && cr < start) cr = buffer.indexOf('\r', start);
      let end: number;
      let next: number;
      if (cr >= 0 && (nl < 0 || cr < nl)) {
        if (cr === buffer.length - 1) break;
        end = cr;
        next = buffer[cr + 1] === '\n' ? cr + 2 : cr + 1;
      } else if (nl >= 0) {
        end = nl;
        next = nl + 1;
      } else break;
      const line = buffer.slice(start, end);
      start = next;
      if (line === '') {
        if (data.length > 0) handlers.onMessage(data.join('\n'), id);
        else if (id !== undefined) handlers.onId(id);
        data = [];
        id = undefined;
        continue;
      }
      if (line.startsWith(':')) continue; // a comment (keep-alive)
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') data.push(value);
      else if (field === 'id' && !value.includes('\0')) id = value;
      // `retry` and `event` are not used: the daemon sends only unnamed events, and the connection owns the timing.
    }
    buffer = buffer.slice(start);
  };
}
