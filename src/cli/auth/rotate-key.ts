// baton auth rotate-key: a new HMAC key for signed requests to the daemon; the
// one it replaces keeps verifying for an overlap (project/hmac-rotation.ts).
// Prints key ids, never keys.
import { DEFAULT_KEY_OVERLAP_MS } from '../../limits.ts';
import { MAX_RETIRING_KEYS, rotateHmacKey } from '../../project/hmac-rotation.ts';
import { hmacKeyId } from '../../protocol/signing.ts';
import { durationMs, ExitCode, parse, positionalArgs } from '../command.ts';
import type { Action } from '../group.ts';
import { duration, printJson, when } from '../output.ts';
import { ensureStateDir, stateDirOption } from '../state-dir.ts';

const usage = 'baton auth rotate-key [--overlap <duration>] [--state-dir <dir>] [--json]';

const help = `usage: ${usage}

Makes a new current HMAC key (<state dir>/hmac.key) for signed requests to the daemon's TCP listener.
The key it replaces keeps verifying until the overlap ends, then a request signed with it gets
UNAUTHENTICATED (401) "key <id> was retired at <time>". A running daemon uses the new key from its next
request on, with no restart; clients that read hmac.key (the baton CLI, the SDK's discovery) sign with it
at once. Copies handed out elsewhere must be replaced before the overlap ends. Dashboard sessions opened
with a key end when it retires. Upgrade the daemon first: one from before key rotation ignores the
overlap (the replaced key stops at once). Keys are named by their
ids (8 hex characters, sent as X-Baton-Key-Id), never shown. At most ${MAX_RETIRING_KEYS} replaced keys verify at once:
rotating past that retires the oldest early.

  --overlap <duration>  how long the replaced key still verifies: seconds, or with a unit (30m, 12h, 7d);
                        0 retires it at once, and every key still in an overlap, after a leak: only the new
                        key verifies (default ${duration(DEFAULT_KEY_OVERLAP_MS)})
  --state-dir <dir>     the state directory (default: $BATON_HOME, else <git common dir>/baton, else <cwd>/.baton)
  --json                print {"keyId","replaced":{"keyId","rotatedAt","retiresAt"}|null,"retiring":[...],"cutShort":[...]}
`;

export const rotateKeyAction: Action = {
  name: 'rotate-key',
  summary: "replace the daemon's HMAC key; the old one verifies until --overlap ends",
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { overlap: { type: 'string' }, 'state-dir': { type: 'string' }, json: { type: 'boolean' } }, usage);
    if (values.help) {
      process.stdout.write(help);
      return ExitCode.ok;
    }
    positionalArgs(positionals, [], usage);
    const overlapMs = durationMs('--overlap', values.overlap) ?? DEFAULT_KEY_OVERLAP_MS;
    const stateDir = stateDirOption(values['state-dir']);
    ensureStateDir(stateDir.path, stateDir.inWorkTree);
    const rotation = await rotateHmacKey(stateDir.path, { overlapMs });
    const described = (k: { key: Buffer; rotatedAt: number; retiresAt: number }) => ({ keyId: hmacKeyId(k.key), rotatedAt: k.rotatedAt, retiresAt: k.retiresAt });
    const keyId = hmacKeyId(rotation.current);
    if (values.json) {
      printJson({
        keyId,
        replaced: rotation.replaced === undefined ? null : described(rotation.replaced),
        retiring: rotation.retiring.map(described),
        cutShort: rotation.cutShort.map(described),
      });
      return ExitCode.ok;
    }
    const now = Date.now();
    const { replaced } = rotation;
    if (replaced === undefined) {
      process.stdout.write(`made the first HMAC key ${keyId} in ${stateDir.path} (there was none to replace)\n`);
      return ExitCode.ok;
    }
    process.stdout.write(`rotated the HMAC key in ${stateDir.path}: the current key is ${keyId}\n`);
    const replacedId = hmacKeyId(replaced.key);
    process.stdout.write(
      replaced.retiresAt <= now
        ? `key ${replacedId} is retired: requests signed with it are refused\n`
        : `key ${replacedId} verifies until ${when(replaced.retiresAt, now)}, then is refused\n`,
    );
    for (const k of rotation.retiring) if (!k.key.equals(replaced.key)) process.stdout.write(`key ${hmacKeyId(k.key)} (replaced earlier) verifies until ${when(k.retiresAt, now)}\n`);
    const why = overlapMs === 0 ? '--overlap 0 retires every replaced key' : `at most ${MAX_RETIRING_KEYS} replaced keys verify at once`;
    for (const k of rotation.cutShort) process.stdout.write(`key ${hmacKeyId(k.key)} (replaced earlier) is retired early: ${why}\n`);
    return ExitCode.ok;
  },
};
