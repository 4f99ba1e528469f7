import { expect, it } from 'vitest';
import { defineWorkflow } from '../../workflows/define-workflow.ts';
import { NonRetryableError } from '../../workflows/errors.ts';
import type { ApiFixture } from './api-fixture.ts';
import { request } from './api-fixture.ts';

const approve = { name: 'approve', waitForSignal: 'approved' } as const;
let undoAttempts = 0;

/** The workflows the suite's node runs: two versions of an admission, an urgent one and one that gets stuck. */
export const apiWorkflows = [
  defineWorkflow({
    id: 'api-admission',
    version: 1,
    slaMs: 3_600_000,
    steps: [{ name: 'register', action: () => ({ bed: 1 }) }, approve],
  }),
  defineWorkflow({
    id: 'api-admission',
    version: 2,
    description: 'Admit a patient once approved.',
    slaMs: 3_600_000,
    steps: [
      { name: 'register', action: () => ({ bed: 2 }) },
      approve,
      { name: 'finish', action: () => 'done' },
    ],
  }),
  defineWorkflow({
    id: 'api-urgent',
    version: 1,
    slaMs: 1,
    steps: [{ name: 'triage', waitForSignal: 'go' }],
  }),
  defineWorkflow({
    id: 'api-stuck',
    version: 1,
    compensationRetry: { maxAttempts: 1 },
    steps: [
      {
        name: 'reserve',
        action: () => 'reserved',
        // Fails the first time (the instance then needs an operator), works when tried again.
        compensate: () => {
          undoAttempts += 1;
          if (undoAttempts === 1) throw new Error('the bed system is down');
        },
      },
      {
        name: 'charge',
        action: () => {
          throw new NonRetryableError('card declined');
        },
      },
    ],
  }),
];

interface Item {
  instanceId: string;
  workflowId: string;
  workflowVersion: number;
  slaState: string;
}

async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Workflow routes against a node running `apiWorkflows` on an empty store. */
export function workflowsSuite(fixture: () => ApiFixture): void {
  const engine = () => fixture().node.store.workflows;
  const statusOf = async (id: string) => (await engine().get(id)).status;

  it('lists the definitions with their versions, newest first', async () => {
    const answer = await request(fixture().node, 'GET', '/v1/workflows/definitions');
    expect(answer.statusCode).toBe(200);
    const items = answer.json().items;
    expect(items.map((d: { id: string }) => d.id)).toEqual(['api-admission', 'api-stuck', 'api-urgent']);
    expect(items[0].versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(items[0].versions[0]).toMatchObject({
      description: 'Admit a patient once approved.',
      slaMs: 3_600_000,
      steps: [
        { name: 'register', kind: 'action', compensates: false },
        { name: 'approve', kind: 'signal', signal: 'approved' },
        { name: 'finish', kind: 'action' },
      ],
    });
  });

  it('lists instances by definition, version, status and SLA state, in pages', async () => {
    const { node } = fixture();
    const first = await engine().start(apiWorkflows[0]!, {});
    const second = await engine().start('api-admission', {});
    const urgent = await engine().start('api-urgent', {});
    await until(async () => (await statusOf(second.instanceId)) === 'waiting');
    await until(async () => (await statusOf(first.instanceId)) === 'waiting');
    const ids = async (query: string) =>
      (await request(node, 'GET', `/v1/workflows/instances?${query}`))
        .json()
        .items.map((i: Item) => i.instanceId);
    expect(await ids('definition=api-admission')).toEqual([first.instanceId, second.instanceId]);
    expect(await ids('definition=api-admission&version=2')).toEqual([second.instanceId]);
    expect(await ids('sla=breached')).toEqual([urgent.instanceId]);
    expect(await ids('sla=on-time&status=waiting')).toEqual([first.instanceId, second.instanceId]);
    const page = await request(node, 'GET', '/v1/workflows/instances?definition=api-admission&limit=1');
    expect(page.json().items[0]).toMatchObject({
      instanceId: first.instanceId,
      workflowVersion: 1,
      slaState: 'on-time',
    });
    const rest = await request(
      node,
      'GET',
      `/v1/workflows/instances?definition=api-admission&limit=1&cursor=${page.json().next}`,
    );
    expect(rest.json()).toMatchObject({ items: [{ instanceId: second.instanceId }], next: null });
    const bad = await request(node, 'GET', '/v1/workflows/instances?sla=late');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('query.sla');
  });

  it("shows one instance's timeline and takes a signal that completes it", async () => {
    const { node } = fixture();
    const { instanceId } = await engine().start('api-admission', { patient: 'p-1' });
    await until(async () => (await statusOf(instanceId)) === 'waiting');
    const waiting = (await request(node, 'GET', `/v1/workflows/instances/${instanceId}`)).json();
    expect(waiting).toMatchObject({ status: 'waiting', currentStep: 'approve', input: { patient: 'p-1' } });
    expect(waiting.timeline.steps[0]).toMatchObject({
      name: 'register',
      status: 'completed',
      output: { bed: 2 },
      attempts: [{ attempt: 1, outcome: 'completed', output: { bed: 2 } }],
    });
    expect(waiting.timeline.steps[1].attempts).toMatchObject([{ attempt: 1, outcome: 'running' }]);
    expect(waiting.timeline.timers.map((t: { kind: string }) => t.kind)).toContain('sla');

    const signal = await request(
      node,
      'POST',
      `/v1/workflows/instances/${instanceId}/signal`,
      {
        name: 'approved',
        payload: { by: 'dr-who' },
      },
      { 'keel-actor': 'nurse-1' },
    );
    expect(signal.statusCode).toBe(202);
    expect(signal.json()).toEqual({ instanceId, action: 'signal', actor: 'nurse-1' });
    await engine().waitForEnd(instanceId);
    const done = (await request(node, 'GET', `/v1/workflows/instances/${instanceId}`)).json();
    expect(done.status).toBe('completed');
    expect(done.timeline.signals).toMatchObject([
      { seq: 1, name: 'approved', payload: { by: 'dr-who' }, consumedBy: 'approve' },
    ]);
    expect(done.timeline.steps.map((s: { status: string }) => s.status)).toEqual([
      'completed',
      'completed',
      'completed',
    ]);
    const again = await request(node, 'POST', `/v1/workflows/instances/${instanceId}/signal`, {
      name: 'approved',
    });
    expect(again.statusCode).toBe(409);
    const noName = await request(node, 'POST', `/v1/workflows/instances/${instanceId}/signal`, {});
    expect(noName.statusCode).toBe(400);
    expect(noName.json().errors[0].path).toBe('body.name');
  });

  it('cancels an instance, and answers 404 for an unknown one', async () => {
    const { node } = fixture();
    const { instanceId } = await engine().start('api-admission', {});
    await until(async () => (await statusOf(instanceId)) === 'waiting');
    const cancel = await request(node, 'POST', `/v1/workflows/instances/${instanceId}/cancel`, {
      reason: 'duplicate',
    });
    expect(cancel.statusCode).toBe(202);
    expect((await engine().waitForEnd(instanceId)).status).toBe('cancelled');
    expect((await request(node, 'POST', `/v1/workflows/instances/${instanceId}/cancel`, {})).statusCode).toBe(
      409,
    );
    const missing = await request(node, 'GET', '/v1/workflows/instances/nobody');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().errors[0].path).toBe('params.instanceId');
  });

  it('retries the failing compensation of an instance that needs an operator', async () => {
    const { node } = fixture();
    const { instanceId } = await engine().start('api-stuck', {});
    await until(async () => (await statusOf(instanceId)) === 'needs_operator');
    const stuck = (await request(node, 'GET', `/v1/workflows/instances/${instanceId}`)).json();
    expect(stuck.timeline.steps[0].compensation).toMatchObject([
      { outcome: 'failed', error: { message: 'the bed system is down' } },
    ]);
    expect(stuck.timeline.steps[1].attempts).toMatchObject([
      { outcome: 'failed', error: { message: 'card declined' } },
    ]);
    const retry = await request(node, 'POST', `/v1/workflows/instances/${instanceId}/retry`, {
      detail: 'bed system back',
    });
    expect(retry.statusCode).toBe(202);
    expect((await engine().waitForEnd(instanceId)).status).toBe('compensated');
    const after = (await request(node, 'GET', `/v1/workflows/instances/${instanceId}`)).json();
    expect(after.timeline.steps[0].compensation.map((c: { outcome: string }) => c.outcome)).toEqual([
      'failed',
      'compensated',
    ]);
    const ended = await request(node, 'POST', `/v1/workflows/instances/${instanceId}/retry`, {});
    expect(ended.statusCode).toBe(409);
    expect(ended.json().errors[0].path).toBe('params.instanceId');
  });
}
