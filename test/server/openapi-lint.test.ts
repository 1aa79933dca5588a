// The OpenAPI document the daemon serves passes a real linter (Redocly's,
// recommended rules) with no errors, on its TCP listener and on its unix
// socket, and says on each where the daemon is and what a caller must send.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { createToken } from '../../src/project/tokens.ts';
import { startDaemon } from '../../support/daemon.ts';
import { tempDir } from '../helpers/procs.ts';

interface Doc {
  servers: Array<{ url: string; description: string; 'x-baton-socket'?: string | null }>;
  security: Array<Record<string, string[]>>;
  paths: Record<string, Record<string, { security?: Array<Record<string, string[]>> }>>;
  components: { securitySchemes: Record<string, { type: string; scheme?: string; in?: string; name?: string }> };
}

function overSocket(socketPath: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ socketPath, path }, async (res) => {
      let text = '';
      for await (const chunk of res) text += String(chunk);
      resolve(text);
    }).on('error', reject).end();
  });
}

/** Redocly's recommended ruleset on the document as served; the problems by severity. */
async function lint(source: string, t: { diagnostic(message: string): void }, where: string): Promise<{ errors: string[]; warnings: string[] }> {
  const problems = await lintFromString({ source, absoluteRef: `${where}/v1/openapi.json`, config: await createConfig({ extends: ['recommended'] }) });
  const line = (p: (typeof problems)[number]) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer ?? '?'}`;
  const errors = problems.filter((p) => p.severity === 'error').map(line);
  const warnings = problems.filter((p) => p.severity !== 'error').map(line);
  t.diagnostic(`${where}: ${errors.length} errors, ${warnings.length} warnings${warnings.length > 0 ? `: ${[...new Set(problems.filter((p) => p.severity !== 'error').map((p) => p.ruleId))].join(', ')}` : ''}`);
  return { errors, warnings };
}

test('/v1/openapi.json lints clean (no errors, recommended rules) and names its server and security on TCP and on the unix socket', { timeout: 60_000 }, async (t) => {
  const root = tempDir(t, 'baton-openapi-');
  execFileSync('git', ['init', '-q', root]);
  const stateDir = join(root, '.git', 'baton');
  const { token } = await createToken(stateDir, 'doc-reader');
  const daemon = await startDaemon(stateDir, { cwd: root, args: ['--listen', '127.0.0.1:0'] });
  t.after(() => daemon.stop());
  const listen = daemon.record.listen!;

  // TCP: the listener's address, and only the credentials it takes.
  assert.equal((await fetch(`http://${listen}/v1/openapi.json`)).status, 401, 'the document too is behind authentication on TCP');
  const tcpText = await (await fetch(`http://${listen}/v1/openapi.json`, { headers: { authorization: `Bearer ${token}` } })).text();
  const tcp = JSON.parse(tcpText) as Doc;
  assert.deepEqual(tcp.servers.map((s) => s.url), [`http://${listen}`]);
  const schemes = tcp.components.securitySchemes;
  assert.deepEqual({ type: schemes.bearerToken?.type, scheme: schemes.bearerToken?.scheme }, { type: 'http', scheme: 'bearer' });
  assert.deepEqual([schemes.signatureTimestamp?.in, schemes.signatureTimestamp?.name], ['header', 'X-Baton-Timestamp']);
  assert.deepEqual([schemes.signature?.in, schemes.signature?.name], ['header', 'X-Baton-Signature']);
  assert.deepEqual(tcp.security, [{ bearerToken: [] }, { signatureTimestamp: [], signature: [] }], 'every request: a bearer token, or both signature headers');
  assert.ok(tcp.paths['/v1/events']!.get!.security!.some((r) => 'accessToken' in r), 'the event stream also takes ?access_token=');
  assert.ok(!tcp.paths['/v1/events']!.get!.security!.some((r) => Object.keys(r).length === 0), 'no anonymous alternative on TCP');
  const tcpLint = await lint(tcpText, t, 'tcp');
  assert.deepEqual(tcpLint.errors, []);

  // Unix socket: where the socket is, and no credentials needed (the empty requirement).
  const unixText = await overSocket(daemon.record.socket!, '/v1/openapi.json');
  const unix = JSON.parse(unixText) as Doc;
  assert.equal(unix.servers.length, 1);
  assert.equal(unix.servers[0]!['x-baton-socket'], daemon.record.socket);
  assert.match(unix.servers[0]!.description, /unix socket/);
  assert.deepEqual(unix.security[0], {}, 'over the socket a request needs no credentials');
  const unixLint = await lint(unixText, t, 'unix');
  assert.deepEqual(unixLint.errors, []);
});
