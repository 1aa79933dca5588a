// baton ui: the web dashboard of this project's daemon (started if none
// runs). Prints a one-time sign-in link and opens it in a browser, when there
// is one to open: a link works once, for two minutes, and trades itself for a
// cookie, so nothing long-lived lands in the terminal's scrollback. The
// browser is given a private file that redirects to the link, not the link
// itself: a process's arguments are readable by every user (/proc), and the
// first to use a ticket gets the session (Jupyter does the same).
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeFileAtomicSync } from '../files/atomic-write.ts';
import { RemoteCoordinator } from '../client/remote.ts';
import { BatonError } from '../errors.ts';
import { canOpenBrowser, startBrowser } from './browser.ts';
import { ExitCode, parse, positionalArgs, type Command } from './command.ts';
import { connect } from './connect.ts';
import { projectLocation } from './state-dir.ts';
import { printJson } from './output.ts';

const usage = 'baton ui [--no-open] [--read-only] [--sign-out] [--state-dir <dir>] [--json]';

const help = `Opens the project's live dashboard: who holds what, the queue, agents, budgets, the event timeline,
and actions (force-release, requeue, cancel, end a session, reset a budget). The daemon serves it on
127.0.0.1 (a browser cannot reach its unix socket); the link signs this browser in once.

  --no-open           print the link only (also when no browser can be opened: no display, over ssh)
  --read-only         a session that can look but not act
  --sign-out          sign every browser out of the dashboard (sessions last 24 hours otherwise; a
                      session made with a token also ends when the token is revoked)
  --state-dir <dir>   the project's state directory (as for every engine command: see baton --help)
  --json              print { url, origin, readOnly, expiresAt, opened } (never opens a browser)
`;

/** A file only this user can read that sends the browser on to `url`: in the state directory, else a private temporary one. */
function redirectFile(url: string, stateDir: string | undefined): string {
  const dir = stateDir !== undefined && existsSync(stateDir) ? stateDir : mkdtempSync(join(tmpdir(), 'baton-ui-'));
  const file = join(dir, 'ui-open.html');
  const attr = url.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  writeFileAtomicSync(file, `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${attr}"><title>baton dashboard</title></head><body><p><a href="${attr}">Open the baton dashboard</a></p></body></html>\n`, { mode: 0o600 });
  return file;
}

/** Starts the browser on `url` (through a private redirect file); false when that could not be done. */
function openBrowser(url: string, stateDir: string | undefined): Promise<boolean> {
  if (!canOpenBrowser()) return Promise.resolve(false);
  let target: string;
  try {
    target = pathToFileURL(redirectFile(url, stateDir)).href;
  } catch {
    return Promise.resolve(false);
  }
  return startBrowser(target);
}

export const uiCommand: Command = {
  name: 'ui',
  summary: "the project's live web dashboard (a one-time sign-in link, opened in a browser)",
  usage,
  async run(argv) {
    const options = { 'no-open': { type: 'boolean' }, 'read-only': { type: 'boolean' }, 'sign-out': { type: 'boolean' }, 'state-dir': { type: 'string' }, json: { type: 'boolean' } } as const;
    const { values, positionals } = parse(argv, options, usage);
    if (values.help) {
      process.stdout.write(`usage: ${usage}\n\n${help}`);
      return ExitCode.ok;
    }
    positionalArgs(positionals, [], usage);
    const coordinator = await connect({ 'state-dir': values['state-dir'] });
    try {
      if (!(coordinator instanceof RemoteCoordinator)) {
        throw new BatonError('UNAVAILABLE', 'the dashboard is served by the daemon, and this project uses no daemon ($BATON_NO_DAEMON or --db): run `baton serve` first');
      }
      if (values['sign-out'] === true) {
        const ended = await coordinator.dashboardSignOut();
        if (values.json) printJson({ ended });
        else process.stdout.write(`signed out ${ended} dashboard session${ended === 1 ? '' : 's'}\n`);
        return ExitCode.ok;
      }
      const link = await coordinator.dashboardLink({ readOnly: values['read-only'] === true });
      const stateDir = process.env.BATON_URL ? undefined : projectLocation(values['state-dir']).stateDir;
      const opened = values['no-open'] === true || values.json === true ? false : await openBrowser(link.url, stateDir);
      if (values.json) printJson({ ...link, opened });
      else {
        process.stdout.write(`${opened ? 'Opened' : 'Open'} ${link.url}\n`);
        process.stdout.write(`(the link signs one browser in, once, within two minutes${link.readOnly ? '; read-only' : ''}; then the dashboard is at ${link.origin}/ui/)\n`);
      }
      return ExitCode.ok;
    } finally {
      await coordinator.close();
    }
  },
};
