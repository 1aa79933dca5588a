// The start line every bench worker shares: say 'ready', then wait for the
// bench's 'go' on stdin, so all workers start measuring at once.
export async function readyThenGo(): Promise<void> {
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => {
    let started = false;
    process.stdin.once('data', () => {
      started = true;
      process.stdin.pause();
      resolve();
    });
    // The bench went away before 'go': do not linger.
    process.stdin.once('end', () => started || process.exit(1));
  });
}

/**
 * Milliseconds on CLOCK_MONOTONIC, one clock for every process on the host:
 * times taken in different workers are compared. (performance.timeOrigin is each
 * process's own reading of the wall clock at start; under load it was off by up
 * to a millisecond between workers, which showed as handoffs that ended before
 * they began.)
 */
export function sharedClockMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
