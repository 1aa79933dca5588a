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
