// How times, durations and counts read on screen: short, and the same everywhere.

const number = new Intl.NumberFormat('en');

export function count(n: number): string {
  return number.format(n);
}

/** 950 ms, 12 s, 3 min 5 s, 2 h 10 min, 4 d 3 h. */
export function duration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(abs)} ms`;
  const s = Math.floor(abs / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d} d` : `${d} d ${h % 24} h`;
}

export function ago(at: number, now: number): string {
  return now - at < 1000 ? 'just now' : `${duration(now - at)} ago`;
}

/** "in 12 s", or "12 s overdue" once past. */
export function until(at: number, now: number): string {
  return at >= now ? `in ${duration(at - now)}` : `${duration(now - at)} overdue`;
}

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** HH:MM:SS, local time. By hand: toLocaleTimeString builds a formatter each call (1 ms under a flood of events). */
export function clockTime(at: number): string {
  const d = new Date(at);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

export function dateTime(at: number): string {
  return new Date(at).toISOString().replace('T', ' ').replace('Z', ' UTC');
}

/** One line of an error text, at most `max` characters. */
export function firstLine(text: string, max = 160): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}
