// Where the OpenAPI document says the daemon is and what it asks of a caller:
// `servers` and the security schemes. The document is made for the listener it
// is served on. Over TCP every request needs a bearer token or an HMAC
// signature (docs/daemon.md), so those are the only alternatives, and a
// generated client sends one. Over the unix socket (or named pipe) file
// permissions are the access control: the requirements list the empty one,
// `{}`, OpenAPI's way of saying "no credentials", beside the TCP schemes,
// which the socket accepts and does not check.
import { KEY_ID_HEADER, SIGNATURE_HEADER, SIGNATURE_VERSION, TIMESTAMP_HEADER } from './signing.ts';

/** The listener a document is served on, and the daemon's addresses. */
export interface ServedOver {
  transport: 'tcp' | 'unix' | 'pipe';
  /** host:port of the TCP listener, when the daemon has one. */
  listen: string | null;
  /** The unix socket's path or the named pipe's name, when the daemon has one. */
  socket: string | null;
}

export const securitySchemes = {
  bearerToken: {
    type: 'http',
    scheme: 'bearer',
    description:
      'A token from `baton auth token create <name>` (shown once; the daemon keeps its sha256 hash). Required on TCP unless the request is signed. ' +
      "A scoped token may call the operations whose x-baton-scopes hold one of its scopes (403 PERMISSION_DENIED otherwise); an expired one gets 401.",
  },
  signatureTimestamp: {
    type: 'apiKey',
    in: 'header',
    name: TIMESTAMP_HEADER,
    description: `With ${SIGNATURE_HEADER}: when the request was signed, in milliseconds since the epoch. More than 5 minutes from the daemon's clock is refused.`,
  },
  signature: {
    type: 'apiKey',
    in: 'header',
    name: SIGNATURE_HEADER,
    description:
      `With ${TIMESTAMP_HEADER}: \`${SIGNATURE_VERSION}=<hex HMAC-SHA256(key, base)>\`, the key being the 32 bytes hex-encoded in the state directory's hmac.key, ` +
      'and base four lines joined by "\\n": the method in upper case, the path and query as sent, the timestamp, and the hex sha256 of the body. A signature is accepted once. ' +
      `Send the key's id too, in ${KEY_ID_HEADER} (the first 8 hex characters of sha256("baton-hmac-key-id\\n" + key)): after \`baton auth rotate-key\` the replaced key verifies until its overlap ends. Without it every key that verifies now is tried.`,
  },
  accessToken: {
    type: 'apiKey',
    in: 'query',
    name: 'access_token',
    description: 'The bearer token in the query, on GET requests only: a stock EventSource cannot set headers.',
  },
} as const;

type Requirement = Partial<Record<keyof typeof securitySchemes, string[]>>;

const bearer: Requirement = { bearerToken: [] };
// Both headers in one requirement: a signed request sends the two together.
const signed: Requirement = { signatureTimestamp: [], signature: [] };

/** The alternatives a request may satisfy; `get` adds the query token. */
export function securityFor(served: ServedOver, get = false): Requirement[] {
  const tcp = get ? [bearer, signed, { accessToken: [] }] : [bearer, signed];
  return served.transport === 'tcp' ? tcp : [{}, ...tcp];
}

/** The one server the document was fetched from. */
export function serversFor(served: ServedOver): Array<Record<string, unknown>> {
  if (served.transport === 'tcp' && served.listen !== null) {
    return [{ url: `http://${served.listen}`, description: "This daemon's TCP listener: every request needs a bearer token or an HMAC signature." }];
  }
  const where = served.socket ?? 'the daemon\'s socket (daemon.json names it)';
  return [
    {
      // A URL is required; the socket carries plain HTTP and the host name is not used.
      url: 'http://baton',
      description: `HTTP over the ${served.transport === 'pipe' ? 'named pipe' : 'unix socket'} ${where}, e.g. \`curl --unix-socket ${where} http://baton/v1/health\`. The host name is not used; no credentials are needed (file permissions guard the socket).`,
      'x-baton-socket': served.socket,
    },
  ];
}
