// What a webhook may point at. Only http: and https:, no credentials in the
// URL, at most MAX_WEBHOOK_URL_LENGTH characters; and, unless the daemon and
// the endpoint both allow it, no host that resolves to this machine or its
// networks (loopback, private, link-local including cloud metadata at
// 169.254.169.254, shared, unspecified, multicast, reserved): a token holder
// must not be able to make the daemon probe them. The host is resolved again
// at every send and the request goes to the address that was checked, so a
// name that later resolves elsewhere (DNS rebinding) gains nothing.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { BatonError } from '../../errors.ts';
import { MAX_WEBHOOK_URL_LENGTH } from '../../limits.ts';

/** The ranges refused by default, with why (docs/webhooks.md lists them). */
const REFUSED: Array<[string, number, 'ipv4' | 'ipv6', string]> = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'shared (carrier-grade NAT)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'reserved'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'reserved (benchmarking)'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 96, 'ipv6', 'unspecified, loopback or IPv4-compatible'],
  ['::ffff:0:0', 96, 'ipv6', 'IPv4-mapped'],
  ['fc00::', 7, 'ipv6', 'private (unique local)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];
const lists = REFUSED.map(([net, prefix, family, why]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, family);
  return { list, family, why };
});

/** Why an address is refused by default, or null if it is a public one. */
export function refusedBecause(address: string): string | null {
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  // Each range against addresses of its own family: a BlockList also matches an IPv4 address to the IPv4-mapped range.
  return lists.find((range) => range.family === family && range.list.check(address, family))?.why ?? null;
}

const shown = (url: string): string => JSON.stringify(url.length > 80 ? `${url.slice(0, 80)}...` : url);

/** A URL a webhook may have, by its syntax alone; INVALID_ARGUMENT naming what is wrong. */
export function parseWebhookUrl(raw: string): URL {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) throw new BatonError('INVALID_ARGUMENT', `a webhook URL must be at most ${MAX_WEBHOOK_URL_LENGTH} characters, got ${raw.length}: ${shown(raw)}`);
  // URL parsing drops tabs and newlines silently: what is stored must be what was given.
  if (/[\s\x00-\x1f\x7f]/.test(raw)) throw new BatonError('INVALID_ARGUMENT', `a webhook URL must not contain whitespace or control characters: ${shown(raw)}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BatonError('INVALID_ARGUMENT', `not a URL: ${shown(raw)}; a webhook needs http://host/path or https://host/path`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BatonError('INVALID_ARGUMENT', `a webhook URL must be http: or https:, got ${url.protocol} in ${shown(raw)}`);
  if (url.username !== '' || url.password !== '') {
    throw new BatonError('INVALID_ARGUMENT', `a webhook URL must not carry credentials (user:password@): receivers check the webhook-signature instead; got ${shown(raw.replace(/\/\/[^@/]*@/, '//***@'))}`);
  }
  if (url.hostname === '') throw new BatonError('INVALID_ARGUMENT', `a webhook URL needs a host: ${shown(raw)}`);
  return url;
}

/** The host as the resolver takes it (an IPv6 literal without its brackets). */
export const hostOf = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

export interface Target {
  address: string;
  family: 4 | 6;
}

/**
 * The address to send to: the host resolved now, every address it has
 * checked. Refused (PERMISSION_DENIED) if any is one of this machine's
 * networks and private targets are not allowed; INVALID_ARGUMENT if it does
 * not resolve.
 */
export async function resolveTarget(url: URL, allowPrivate: boolean): Promise<Target> {
  const host = hostOf(url);
  let found: Array<{ address: string; family: number }>;
  try {
    found = isIP(host) === 0 ? await lookup(host, { all: true, verbatim: true }) : [{ address: host, family: isIP(host) }];
  } catch (error) {
    throw new BatonError('INVALID_ARGUMENT', `the webhook host ${JSON.stringify(host)} does not resolve (${(error as NodeJS.ErrnoException).code ?? 'no address'})`, { details: { host } });
  }
  if (!allowPrivate) {
    for (const { address } of found) {
      const why = refusedBecause(address);
      if (why !== null) {
        throw new BatonError(
          'PERMISSION_DENIED',
          `the webhook host ${JSON.stringify(host)} ${address === host ? 'is' : `resolves to ${address},`} a ${why} address: refused, so a webhook cannot probe this machine's networks (allow it with 'baton serve --webhooks-allow-private' and 'baton webhook add --allow-private')`,
          { details: { host, address } },
        );
      }
    }
  }
  const first = found[0];
  if (first === undefined) throw new BatonError('INVALID_ARGUMENT', `the webhook host ${JSON.stringify(host)} has no address`, { details: { host } });
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}
