// The request body and the result of every operation on the wire, made of the
// concept schemas. The daemon checks each request against its body schema
// (and, in tests, each answer against its result schema), the embedded CLI
// checks the same way, and the OpenAPI document publishes both. Loaded only
// where something is checked or published: a client that only sends does not
// pay for zod.
import { z } from 'zod';
import { MAX_BATCH } from '../limits.ts';
import * as approvals from '../schema/approvals.ts';
import * as budgets from '../schema/budgets.ts';
import * as credentials from '../schema/credentials.ts';
import * as events from '../schema/events.ts';
import { anyJson, id, key, mutation, taskId } from '../schema/fields.ts';
import * as kv from '../schema/kv.ts';
import * as leases from '../schema/leases.ts';
import * as messages from '../schema/messages.ts';
import * as quotas from '../schema/quotas.ts';
import * as limits from '../schema/rate-limits.ts';
import * as release from '../schema/release-requests.ts';
import * as sessions from '../schema/sessions.ts';
import * as tasks from '../schema/tasks.ts';
import * as projects from './project-operations.ts';
import * as own from './daemon-operations.ts';
import type { OperationName } from './operations.ts';

const sessionId = { sessionId: id };
const version = z.int().min(1).describe('The version you read: a stale one is CONFLICT.');
const nothing = z.null().describe('No result.');

export const requestBodies = {
  // leases
  acquire: leases.acquireOptions.extend({ key }),
  renew: leases.renewOptions.extend({ lease: leases.leaseRef }),
  release: mutation.extend({ lease: leases.leaseRef }),
  forceRelease: leases.forceReleaseOptions.extend({ key }),
  checkLease: leases.leaseRef,
  getLease: z.strictObject({ key }),
  listLeases: leases.listLeasesOptions,
  // sessions
  register: sessions.registerOptions,
  heartbeat: z.strictObject(sessionId),
  endSession: sessions.endSessionOptions.extend(sessionId),
  getSession: z.strictObject(sessionId),
  listSessions: sessions.listSessionsOptions,
  // tasks
  addTask: mutation.extend({ spec: tasks.taskSpec }),
  addTasks: mutation.extend({ specs: z.array(tasks.taskSpec).min(1).max(MAX_BATCH) }),
  getTask: z.strictObject({ id: taskId }),
  listTasks: tasks.taskFilter,
  taskCounts: tasks.queueOption,
  updateTask: mutation.extend({ id: taskId, version, patch: tasks.taskPatch }),
  removeTask: mutation.extend({ id: taskId, version }),
  reorderTask: mutation.extend({ id: taskId, version, to: tasks.reorderTarget }),
  claim: tasks.claimOptions.extend(sessionId),
  claimByIds: tasks.claimLeaseOptions.extend({ ...sessionId, ids: z.array(taskId).min(1) }),
  renewClaim: tasks.claimLeaseOptions.extend({ claim: tasks.claimRef }),
  releaseClaim: mutation.extend({ claim: tasks.claimRef }),
  complete: tasks.completeOptions.extend({ claim: tasks.claimRef, result: anyJson.optional() }),
  completeMany: mutation.extend({ items: z.array(tasks.completeItem).min(1) }),
  fail: tasks.failOptions.extend({ claim: tasks.claimRef, error: tasks.failure }),
  cancel: tasks.cancelOptions.extend({ id: taskId }),
  // approvals
  approveTask: approvals.approveOptions.extend({ id: taskId }),
  rejectTask: approvals.rejectOptions.extend({ id: taskId }),
  setApprovalPolicy: approvals.approvalPolicySpec,
  approvalPolicies: z.strictObject({}),
  // token budgets
  setBudget: budgets.budgetSpec,
  removeBudget: mutation.extend({ scope: budgets.budgetScope }),
  report: budgets.usageReport,
  budgetStatus: z.strictObject({ scope: budgets.budgetScope.optional() }),
  usage: budgets.usageOptions,
  reserve: budgets.reserveOptions,
  commitReservation: mutation.extend({ reservationId: budgets.reservationId, actual: budgets.actualUsage }),
  cancelReservation: mutation.extend({ reservationId: budgets.reservationId }),
  resetBudget: mutation.extend({ scope: budgets.budgetScope.optional() }),
  // quotas
  setQuota: quotas.setQuotaOptions,
  listQuotas: z.strictObject({}),
  // rate limits
  setRateLimit: limits.rateLimitSpec.extend({ key }),
  take: limits.rateTakeOptions.extend({ key }),
  rateLimitStatus: z.strictObject({ key: key.optional() }),
  // events and maintenance
  events: events.eventQuery,
  publish: events.publishOptions,
  sweep: z.strictObject({}),
  // release requests
  requestRelease: release.requestReleaseOptions.extend({ key }),
  answerRelease: release.answerReleaseOptions.extend({ id: release.releaseRequestId }),
  releaseRequests: release.releaseRequestFilter,
  // messages between agents
  sendMessage: messages.sendMessage,
  inbox: messages.inboxOptions.extend({ agent: messages.agentName }),
  readMessages: mutation.extend({ agent: messages.agentName, ids: messages.messageIds }),
  ackMessages: mutation.extend({ agent: messages.agentName, ids: messages.messageIds }),
  // shared state
  kvGet: z.strictObject({ key }),
  kvPut: kv.kvPutOptions.extend({ key, value: kv.kvValue }),
  kvDelete: kv.kvDeleteOptions.extend({ key }),
  kvList: kv.kvListOptions,
  // credentials
  credential: credentials.credentialOptions,
  // the daemon's own
  writeFile: own.writeFileBody,
  deleteFile: own.deleteFileBody,
  renameFile: own.renameFileBody,
  readFile: own.readFileBody,
  gitStatus: own.gitStatusBody,
  gitCommit: own.gitCommitBody,
  webhookAdd: own.webhookAddBody,
  webhookList: own.webhookListBody,
  webhookRemove: own.webhookIdBody,
  webhookRotate: own.webhookRotateBody,
  webhookTest: own.webhookIdBody,
  webhookDeliveries: own.webhookDeliveriesBody,
  projectList: projects.projectListBody,
  projectShow: projects.projectNameBody,
  projectCreate: projects.projectChangeBody,
  projectArchive: projects.projectChangeBody,
} satisfies Record<OperationName, z.ZodType>;

export const results = {
  acquire: leases.lease,
  renew: leases.lease,
  release: nothing,
  forceRelease: z.int().describe('How many holds ended.'),
  checkLease: leases.lease,
  getLease: leases.leaseInfo,
  listLeases: z.array(leases.lease),
  register: sessions.session,
  heartbeat: sessions.session,
  endSession: nothing,
  getSession: sessions.session,
  listSessions: z.array(sessions.session),
  addTask: tasks.task,
  addTasks: z.array(tasks.task),
  getTask: tasks.task,
  listTasks: z.array(tasks.task),
  taskCounts: tasks.taskCounts,
  updateTask: tasks.task,
  removeTask: nothing,
  reorderTask: tasks.task,
  claim: z.array(tasks.claim),
  claimByIds: z.array(tasks.claim),
  renewClaim: tasks.claim,
  releaseClaim: tasks.task,
  complete: tasks.task,
  completeMany: z.array(tasks.task),
  fail: tasks.task,
  cancel: tasks.task,
  approveTask: tasks.task,
  rejectTask: tasks.task,
  setApprovalPolicy: approvals.approvalPolicy,
  approvalPolicies: z.array(approvals.approvalPolicy),
  setBudget: budgets.budgetStatus,
  removeBudget: nothing,
  report: budgets.usageResult,
  budgetStatus: z.array(budgets.budgetStatus),
  usage: budgets.usageTotals,
  reserve: budgets.reservation,
  commitReservation: budgets.usageResult,
  cancelReservation: nothing,
  resetBudget: nothing,
  setQuota: quotas.quotaRow,
  listQuotas: z.array(quotas.quotaStatus),
  setRateLimit: limits.rateLimitStatus,
  take: limits.rateTakeResult,
  rateLimitStatus: z.array(limits.rateLimitStatus),
  events: z.array(events.batonEvent),
  publish: events.batonEvent,
  sweep: events.sweepResult,
  requestRelease: z.array(release.releaseRequest).describe('One request per hold asked.'),
  answerRelease: release.releaseRequest,
  releaseRequests: z.array(release.releaseRequest),
  sendMessage: messages.sentMessage,
  inbox: z.array(messages.inboxEntry),
  readMessages: z.array(messages.inboxEntry),
  ackMessages: z.int().describe('How many messages were newly acknowledged.'),
  kvGet: kv.kvEntry.nullable().describe('null: the key does not exist (or its lease ended).'),
  kvPut: kv.kvEntry,
  kvDelete: kv.kvDeleteResult,
  kvList: kv.kvListResult,
  credential: credentials.credential,
  writeFile: own.fileResult,
  deleteFile: own.fileResult,
  renameFile: own.fileResult,
  readFile: own.readFileResult,
  gitStatus: own.gitStatusResult,
  gitCommit: own.gitCommitResult,
  webhookAdd: own.webhookWithSecret,
  webhookList: z.array(own.webhookEndpoint),
  webhookRemove: nothing,
  webhookRotate: own.webhookWithSecret,
  webhookTest: own.webhookDelivery,
  webhookDeliveries: z.array(own.webhookDelivery),
  projectList: projects.projectList,
  projectShow: projects.projectDetail,
  projectCreate: projects.projectInfo,
  projectArchive: projects.projectInfo,
} satisfies Record<OperationName, z.ZodType>;

export type RequestBodies = typeof requestBodies;
/** The body of an operation's request, as it travels. */
export type RequestBody<K extends OperationName> = z.infer<RequestBodies[K]>;
