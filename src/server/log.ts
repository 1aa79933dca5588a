// Structured logs: one JSON object per line, one file per daemon process
// (logs/daemon-<pid>.log in the state directory); --foreground copies each
// line to stdout too.
import { createWriteStream, type WriteStream } from 'node:fs';

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  close(): Promise<void>;
}

export function createLogger(options: { file: string | null; stdout: boolean }): Logger {
  const stream: WriteStream | null = options.file === null ? null : createWriteStream(options.file, { flags: 'a', mode: 0o600 });
  stream?.on('error', () => {
    // a full disk must not take the daemon down with it
  });
  const write = (level: string, message: string, fields: Record<string, unknown> = {}): void => {
    const line = `${JSON.stringify({ at: new Date().toISOString(), level, pid: process.pid, message, ...fields })}\n`;
    stream?.write(line);
    if (options.stdout) process.stdout.write(line);
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    close: () => new Promise((resolve) => (stream === null ? resolve() : stream.end(() => resolve()))),
  };
}
