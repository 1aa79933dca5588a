// Deciding a task that awaits approval from the dashboard (docs/approvals.md), in a real
// browser against a real daemon: the queue and the attention bar show what waits; Approve
// from the details makes the task ready, and task.approved names the page's session as its
// actor; Reject needs a reason and ends the task rejected; a read-only session gets neither
// control (a note says why) and the daemon refuses its decision anyway.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'puppeteer-core';
import type { Task } from '../../src/coordinator.ts';
import { axeScan, describeViolations } from '../../support/browser.ts';
import { screenshot, sel, startDashboard, text, waitForText, type Dashboard } from './dashboard-fixture.ts';

let dash: Dashboard;
before(async () => {
  dash = await startDashboard();
});
after(async () => {
  await dash?.close();
});

const row = (id: number): string => `${sel('task-row')}[data-key="${id}"]`;
const inDetails = (testid: string): string => `${sel('details')} ${sel(testid)}`;

/** Opens task `id`'s details in the queue and waits until they show it awaiting approval. */
async function openAwaiting(page: Page, origin: string, id: number): Promise<void> {
  await page.goto(`${origin}/ui/?view=queue&sel=${id}&details=1`, { waitUntil: 'load' });
  await waitForText(page, row(id), 'awaiting approval', 20_000);
  await waitForText(page, sel('details'), 'pending: a person must approve it');
}

/** An axe-core scan of the page as it is, in the light and the dark scheme: no violation. */
async function noViolations(page: Page, what: string): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }]);
    await new Promise((r) => setTimeout(r, 150)); // the colour change settles before contrast is judged
    const violations = await axeScan(page);
    assert.equal(violations.length, 0, `axe-core in ${what} (${scheme}):\n${describeViolations(violations)}`);
  }
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);
}

/** Confirms the open dialog with `reason` typed in, then waits out the undo window for the daemon's answer. */
async function confirmWith(page: Page, reason: string): Promise<void> {
  await page.waitForSelector(sel('confirm-dialog'));
  await page.click(sel('confirm-input'), { count: 3 });
  await page.type(sel('confirm-input'), reason);
  await page.click(sel('confirm'));
  await page.waitForSelector(`${sel('action-result')}[data-outcome="ok"], ${sel('action-result')}[data-outcome="error"]`, { timeout: 20_000 });
  const outcome = await page.$eval(sel('action-result'), (e) => [e.getAttribute('data-outcome'), e.textContent]);
  assert.equal(outcome[0], 'ok', `the action's result: ${outcome[1]}`);
}

test('a task awaiting approval shows as such; Approve from the page makes it ready, recorded under the dashboard session', async () => {
  const task = await dash.client().addTask({ title: 'migrate the users table', queue: 'deploy', needsApproval: true });
  assert.equal(task.status, 'awaiting_approval');
  const { page, link, context } = await dash.open({ view: 'queue' });
  try {
    await openAwaiting(page, link.origin, task.id);
    await page.waitForSelector(`${sel('attention-item')}[data-kind="approval-waiting"]`);
    const principal = (await text(page, sel('principal')))!.trim();
    assert.match(principal, /ui:/, 'the header names the dashboard session');
    await screenshot(page, 'approval-awaiting');
    await noViolations(page, 'a task awaiting approval');

    await page.click(inDetails('action-approve'));
    await waitForText(page, sel('confirm-dialog'), 'approveTask');
    await screenshot(page, 'confirm-approve');
    await confirmWith(page, 'backup verified');

    // The page follows the event: the row and the details say ready, with who approved it.
    await waitForText(page, row(task.id), 'ready');
    await waitForText(page, sel('details'), 'approved by ui:');
    assert.equal(await page.$(inDetails('action-approve')), null, 'no Approve once decided');
    const after = await dash.client().getTask(task.id);
    assert.equal(after?.status, 'ready');
    assert.equal(after?.approval?.state, 'approved');
    assert.equal(after?.approval?.reason, 'backup verified');
    const [approved, ...more] = await dash.client().events({ types: ['task.approved'] });
    assert.equal(more.length, 0);
    assert.ok(approved !== undefined);
    assert.equal(approved.actor, after?.approval?.by);
    assert.match(approved.actor ?? '', /^ui:/, 'the decider is the dashboard session, taken from its credential');
    assert.ok(principal.includes(approved.actor!), `the page signed in as ${principal}, the event names ${approved.actor}`);
    console.log(`approved #${task.id} from the page: task.approved actor ${approved.actor} (event #${approved.seq})`);
  } finally {
    await context.close();
  }
});

test('Reject needs a reason, and with one the task ends rejected', async () => {
  const task = await dash.client().addTask({ title: 'drop the legacy reports', queue: 'deploy', needsApproval: true });
  const { page, link, context } = await dash.open({ view: 'queue' });
  try {
    await openAwaiting(page, link.origin, task.id);
    await page.click(inDetails('action-reject'));
    await waitForText(page, sel('confirm-dialog'), 'rejectTask');
    // No reason yet: Confirm stays disabled.
    assert.equal(await page.$eval(sel('confirm'), (e) => e.getAttribute('disabled') !== null), true, 'Confirm is disabled without a reason');
    await confirmWith(page, 'still read by the reports job');
    await waitForText(page, row(task.id), 'rejected');
    await waitForText(page, sel('details'), 'rejected by ui:');
    const after = (await dash.client().getTask(task.id)) as Task;
    assert.equal(after.status, 'rejected');
    assert.equal(after.approval?.state, 'rejected');
    assert.equal(after.approval?.reason, 'still read by the reports job');
    const [rejected] = await dash.client().events({ types: ['task.rejected'] });
    assert.match(rejected?.actor ?? '', /^ui:/);
    console.log(`rejected #${task.id} from the page: task.rejected actor ${rejected?.actor}`);
  } finally {
    await context.close();
  }
});

test('a read-only session sees the task waiting but no Approve or Reject, and the daemon refuses its decision', async () => {
  const task = await dash.client().addTask({ title: 'rotate the signing key', queue: 'deploy', needsApproval: true });
  const { page, link, context } = await dash.open({ readOnly: true, view: 'queue' });
  try {
    await page.waitForSelector(sel('read-only'));
    await openAwaiting(page, link.origin, task.id);
    await page.waitForSelector(inDetails('approval-read-only'));
    const controls = await page.$$(`${sel('action-approve')}, ${sel('action-reject')}`);
    assert.equal(controls.length, 0, 'a read-only session shows no Approve or Reject');
    await screenshot(page, 'approval-read-only');
    await noViolations(page, 'a read-only session on a task awaiting approval');
    const refused = await page.evaluate(async (id: number) => {
      const headers = { 'content-type': 'application/json', 'x-baton-session': localStorage.getItem('baton.session-key') ?? '' };
      const res = await fetch('/v1/approveTask', { method: 'POST', headers, body: JSON.stringify({ id, by: 'someone' }) });
      return { status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code };
    }, task.id);
    assert.deepEqual(refused, { status: 403, code: 'PERMISSION_DENIED' });
    assert.equal((await dash.client().getTask(task.id))?.status, 'awaiting_approval');
  } finally {
    await context.close();
  }
});
