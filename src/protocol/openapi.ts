// The OpenAPI 3.1 document of the daemon's routes, made from the operations
// table and the same zod schemas the daemon checks with (OpenAPI 3.1 schemas
// are JSON Schema 2020-12, which z.toJSONSchema emits).
import { z } from 'zod';
import * as budgets from '../schema/budgets.ts';
import * as events from '../schema/events.ts';
import * as leases from '../schema/leases.ts';
import * as limits from '../schema/rate-limits.ts';
import * as sessions from '../schema/sessions.ts';
import * as tasks from '../schema/tasks.ts';
import { requestBodies, results } from './bodies.ts';
import { fileResult } from './daemon-operations.ts';
import { securityFor, securitySchemes, serversFor, type ServedOver } from './openapi-access.ts';
import { scopesGranting } from './token-scopes.ts';
import { operationNames, operations } from './operations.ts';

const errorBody = z.strictObject({ error: z.strictObject({ code: z.string().describe('A stable code, e.g. LOCKED, STALE_TOKEN.'), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }) });

/** The shapes that get a name of their own under #/components/schemas. */
const named: Record<string, z.ZodType> = {
  Lease: leases.lease,
  LeaseRef: leases.leaseRef,
  LeaseInfo: leases.leaseInfo,
  Session: sessions.session,
  Task: tasks.task,
  TaskSpec: tasks.taskSpec,
  Claim: tasks.claim,
  ClaimRef: tasks.claimRef,
  BudgetScope: budgets.budgetScope,
  BudgetStatus: budgets.budgetStatus,
  UsageResult: budgets.usageResult,
  Reservation: budgets.reservation,
  UsageTotals: budgets.usageTotals,
  RateLimitStatus: limits.rateLimitStatus,
  RateTakeResult: limits.rateTakeResult,
  BatonEvent: events.batonEvent,
  SweepResult: events.sweepResult,
  FileResult: fileResult,
  Error: errorBody,
};

const capitalized = (name: string): string => name[0]!.toUpperCase() + name.slice(1);

/** Every schema as a component, each shape written once and $ref'd elsewhere. */
function componentSchemas(): { schemas: Record<string, unknown>; idOf: Map<z.ZodType, string> } {
  const registry = z.registry<{ id: string }>();
  const idOf = new Map<z.ZodType, string>();
  const add = (schema: z.ZodType, id: string): void => {
    if (idOf.has(schema)) return;
    idOf.set(schema, id);
    registry.add(schema, { id });
  };
  for (const [id, schema] of Object.entries(named)) add(schema, id);
  for (const name of operationNames) {
    add(requestBodies[name], `${capitalized(name)}Request`);
    add(results[name], `${capitalized(name)}Result`);
  }
  const { schemas } = z.toJSONSchema(registry, { uri: (id) => `#/components/schemas/${id}`, unrepresentable: 'any' });
  // Each component is a Schema Object inside the document, not a document of its own.
  for (const schema of Object.values(schemas)) {
    delete (schema as Record<string, unknown>).$schema;
    delete (schema as Record<string, unknown>).$id;
  }
  return { schemas, idOf };
}

export type { ServedOver } from './openapi-access.ts';

/** The document as served on one listener (see openapi-access.ts); by default, the unix socket's. */
export function openApiDocument(version: string, served: ServedOver = { transport: 'unix', listen: null, socket: null }): Record<string, unknown> {
  const { schemas, idOf } = componentSchemas();
  const ref = (schema: z.ZodType): { $ref: string } => ({ $ref: `#/components/schemas/${idOf.get(schema)!}` });
  const errorResponse = { description: 'An error with a stable code.', content: { 'application/json': { schema: ref(errorBody) } } };
  // GETs take the token in the query too (event streams from a browser).
  const getSecurity = securityFor(served, true);
  const unauthenticated = { '401': errorResponse };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const name of operationNames) {
    const o = operations[name];
    paths[`/v1/${name}`] = {
      post: {
        operationId: name,
        summary: o.summary,
        ...(o.mutation ? { parameters: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } }] } : {}),
        requestBody: { required: true, content: { 'application/json': { schema: ref(requestBodies[name]) } } },
        // The API token scopes that grant it (403 PERMISSION_DENIED otherwise): token-scopes.ts.
        'x-baton-scopes': scopesGranting({ operation: name }),
        responses: {
          '200': { description: 'The result.', content: { 'application/json': { schema: ref(results[name]) } } },
          '400': errorResponse, '401': errorResponse, '403': errorResponse, '404': errorResponse, '409': errorResponse, '413': errorResponse, '423': errorResponse, '429': errorResponse,
        },
      },
    };
  }
  paths['/v1/events'] = {
    ...paths['/v1/events'],
    get: {
      operationId: 'eventStream',
      summary: 'Server-sent events: `id:` is the event seq; resume with Last-Event-ID (or ?after=).',
      parameters: [
        { name: 'topics', in: 'query', required: false, schema: { type: 'string', description: 'Comma-separated type prefixes, e.g. lease.,task.' } },
        { name: 'after', in: 'query', required: false, schema: { type: 'integer', minimum: 0 } },
        { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' } },
      ],
      security: getSecurity,
      responses: { '200': { description: 'text/event-stream of BatonEvent JSON objects.' }, '400': errorResponse, ...unauthenticated },
    },
  };
  paths['/v1/sessions/{id}/attach'] = {
    get: {
      operationId: 'attachSession',
      summary: 'Hold this stream open to bind the session to the connection: when it drops, the session ends at once.',
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      security: getSecurity,
      responses: { '200': { description: 'text/event-stream of heartbeats.' }, '400': errorResponse, '404': errorResponse, '409': errorResponse, ...unauthenticated },
    },
  };
  const get = (operationId: string, summary: string, description: string) => ({ get: { operationId, summary, security: getSecurity, responses: { '200': { description }, ...unauthenticated } } });
  paths['/v1/status'] = get('status', 'The daemon, sessions, leases, tasks by state, budgets, rate limits.', 'Status.');
  paths['/v1/health'] = get('health', 'Liveness.', '{ ok, pid, version }');
  paths['/v1/whoami'] = get('whoami', 'Who this request is: its principal, whether it may only read, and its API token scopes.', '{ principal, readOnly, scopes }');
  paths['/v1/ui/link'] = {
    post: {
      operationId: 'dashboardLink',
      summary: "A one-time sign-in link to the daemon's web dashboard (what `baton ui` opens); a read-only caller gets a read-only one.",
      requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', additionalProperties: false, properties: { readOnly: { type: 'boolean' } } } } } },
      responses: { '200': { description: '{ url, origin, readOnly, expiresAt }' }, '400': errorResponse, ...unauthenticated },
    },
  };
  paths['/v1/openapi.json'] = get('openApiDocument', 'This document, as served on this listener.', 'The OpenAPI 3.1 document.');
  return {
    openapi: '3.1.0',
    info: {
      title: 'baton daemon',
      version,
      license: { name: 'MIT', identifier: 'MIT' },
      description:
        "Every route maps one to one onto the Coordinator interface; errors carry the engine's codes. " +
        (served.transport === 'tcp'
          ? 'Served on the TCP listener: every request needs a bearer token or an HMAC signature.'
          : 'Served on the unix socket: no credentials are needed (the empty security requirement {}); on the TCP listener, if there is one, every request needs a bearer token or an HMAC signature.'),
    },
    servers: serversFor(served),
    security: securityFor(served),
    paths,
    components: { schemas, securitySchemes },
  };
}
