// Opening a page in the user's browser: $BROWSER, else the platform's opener,
// else none where no browser can show (no display, an ssh session): the
// caller then prints the address instead.
import { spawn } from 'node:child_process';

/** A browser to open, or undefined where there is none to show one. */
function opener(): { command: string; args: string[] } | undefined {
  if (process.env.BROWSER) return { command: process.env.BROWSER, args: [] };
  if (process.platform === 'darwin') return { command: 'open', args: [] };
  // Not `cmd /c start`: cmd splits the address at each & and runs the rest as commands.
  if (process.platform === 'win32') return { command: 'rundll32', args: ['url.dll,FileProtocolHandler'] };
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return undefined;
  return { command: 'xdg-open', args: [] };
}

/** Whether a browser could be started here at all. */
export function canOpenBrowser(): boolean {
  return opener() !== undefined;
}

/** Starts a browser on `target` (an address, or a file:// page); false when none could be started. */
export function startBrowser(target: string): Promise<boolean> {
  const how = opener();
  if (how === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    const child = spawn(how.command, [...how.args, target], { stdio: 'ignore', detached: true });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}
