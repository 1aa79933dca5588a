// Colour on a terminal. Text written to a TTY is coloured; piped, it is not.
// NO_COLOR (no-color.org: set and not empty) or TERM=dumb turn it off;
// FORCE_COLOR turns it on anywhere (0 or false: off), and wins over NO_COLOR
// as in Node itself: it is the narrower request, usually set for one run.
// JSON is never styled: only the human text calls these.

type StreamName = 'stdout' | 'stderr';

const SGR = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;
export type Style = keyof typeof SGR;

/** Whether text for a stream that is (or is not) a TTY gets colour under `env`. */
export function colourWanted(isTTY: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return isTTY;
}

const decided = new Map<StreamName, boolean>();

/** Decided once per stream: the environment and the TTY do not change while a command runs. */
export function colourOn(stream: StreamName): boolean {
  let on = decided.get(stream);
  if (on === undefined) {
    on = colourWanted(process[stream].isTTY === true);
    decided.set(stream, on);
  }
  return on;
}

/** `text` in `styles`, for `stream`; unchanged when that stream gets no colour. */
export function paint(stream: StreamName, text: string, ...styles: Style[]): string {
  if (text === '' || styles.length === 0 || !colourOn(stream)) return text;
  return styles.reduce((t, s) => `\x1b[${SGR[s][0]}m${t}\x1b[${SGR[s][1]}m`, text);
}

/** How a state word reads at a glance: go, wait, held, failed, over. */
const STATE_STYLES: Record<string, Style> = {
  ready: 'green',
  live: 'green',
  ok: 'green',
  waiting: 'yellow',
  warning: 'yellow',
  claimed: 'cyan',
  held: 'cyan',
  blocked: 'red',
  dead: 'red',
  stale: 'red',
  EXCEEDED: 'red',
  done: 'dim',
  cancelled: 'dim',
  ended: 'dim',
};

/** A state word (ready, waiting, claimed, dead, ...) coloured for stdout; other words unchanged. */
export function state(word: string): string {
  const style = STATE_STYLES[word];
  return style === undefined ? word : paint('stdout', word, style);
}

const ESCAPES = /\x1b\[[0-9;]*m/g;

/** The width `text` takes on screen: its escapes take none. */
export function visibleLength(text: string): number {
  return text.replace(ESCAPES, '').length;
}
