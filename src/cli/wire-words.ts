// A refusal from the daemon's check (or the embedded store's, which checks
// the same way) names a field of the request body: `body.spec.queue must not
// be empty`. The user of the CLI typed a flag or an argument, not a body, so
// the CLI shows the refusal with the name they typed: `--queue must not be
// empty`. A field the CLI sets from a flag in seconds is shown as that flag
// with its bounds in seconds. A field the table does not know loses only its
// `body.` path. Only refusals of bad input (INVALID_ARGUMENT) are reworded.

/** The body field (its last name) and what the CLI's user calls it: a flag, or an argument's name. */
const TERMS: Record<string, string> = {
  key: 'key',
  title: 'title',
  id: 'task id',
  taskId: 'task id',
  reservationId: 'reservation id',
  owner: '--owner',
  queue: '--queue',
  payload: '--payload',
  result: '--result',
  priority: '--priority',
  maxAttempts: '--max-attempts',
  runAt: '--run-at',
  dependsOn: '--depends-on',
  reason: '--reason',
  error: '--error',
  token: '--token',
  sessionId: '--session',
  name: '--name',
  prefix: '--prefix',
  n: '--n',
  agent: '--agent',
  model: '--model',
  limit: '--limit',
  period: '--period',
  warnPercent: '--warn',
  estimate: '--estimate',
  promptTokens: '--prompt',
  completionTokens: '--completion',
  rate: '--rate',
  burst: '--burst',
  cost: '--cost',
  status: '--status',
  types: '--type',
};

/** Fields in milliseconds the CLI takes in seconds, by the flag that sets them. */
const SECONDS: Record<string, string> = {
  ttlMs: '--ttl',
  timeoutMs: '--timeout',
  leaseMs: '--lease',
  retryInMs: '--retry-in',
};

// A refusal of the request's check starts with the field: `body`, then names and
// indexes (body.spec.queue, body.claim.token). User text later in a message
// (a key, a title) is never touched.
const FIELD = /^body((?:\.[A-Za-z_$][\w$]*|\[\d+\])+)/;
// The one refusal that carries numbers: a bound, and the value given.
const BOUND = /^( must be [<>]=? )(-?[\d.e+]+)(, got )(-?[\d.e+]+)$/;

/** A number of milliseconds as seconds (`1500` is `1.5`). */
function inSeconds(ms: string): string {
  const n = Number(ms);
  // toPrecision: 1e23 / 1000 is 99999999999999990000 in binary floating point.
  return Number.isFinite(n) ? String(Number((n / 1000).toPrecision(15))) : ms;
}

/** `message` with the `body.<field>` it starts with in the CLI user's words. */
export function inUserWords(message: string): string {
  const field = FIELD.exec(message);
  if (field === null) return message;
  // The last name in the path: `queue` of `.spec.queue`, `dependsOn` of `.dependsOn[0]`.
  const name = [...field[1]!.matchAll(/\.([A-Za-z_$][\w$]*)/g)].at(-1)?.[1] ?? '';
  const rest = message.slice(field[0].length);
  const seconds = SECONDS[name];
  if (seconds === undefined) return `${TERMS[name] ?? name}${rest}`;
  const bound = BOUND.exec(rest);
  return bound === null ? `${seconds}${rest}` : `${seconds}${bound[1]}${inSeconds(bound[2]!)} seconds${bound[3]}${inSeconds(bound[4]!)}`;
}
