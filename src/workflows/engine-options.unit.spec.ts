import { describe, expect, it } from 'vitest';
import { OptionsError } from '../errors/options.ts';
import type { EventStore } from '../store/event-store.ts';
import type { WorkflowBackend } from './backend.ts';
import { instanceQuery } from './engine.ts';
import { DEFAULT_WORKFLOW_GROUP, parseWorkflowEngineOptions } from './engine-options.ts';
import type { WorkflowEngineOptions } from './engine-types.ts';

const base = { store: {} as EventStore, backend: {} as WorkflowBackend };

describe('workflow engine options', () => {
  it('applies the documented defaults', () => {
    const settings = parseWorkflowEngineOptions(base);
    expect(settings).toMatchObject({
      workflows: [],
      concurrency: 64,
      leaseTtlMs: 10_000,
      pollIntervalMs: 250,
      claimBatch: 32,
      slaRiskWindowMs: 300_000,
      source: 'urn:keel:workflows',
    });
    expect(settings.workerId).toMatch(/^.+:\d+:[0-9a-f]{6}$/);
    expect(settings.store).toBe(base.store);
    expect(settings.backend).toBe(base.backend);
  });

  it("defaults the bus's consumer group and keeps what was given", () => {
    const bus = { transport: {}, catalog: {} } as NonNullable<WorkflowEngineOptions['bus']>;
    expect(parseWorkflowEngineOptions({ ...base, bus }).bus?.group).toBe(DEFAULT_WORKFLOW_GROUP);
    const settings = parseWorkflowEngineOptions({
      ...base,
      bus: { ...bus, group: 'g' },
      workerId: 'w',
      claimBatch: 4,
    });
    expect(settings.bus?.group).toBe('g');
    expect(settings.workerId).toBe('w');
    expect(settings.claimBatch).toBe(4);
  });

  it('names every broken key', () => {
    const broken = { ...base, concurrency: 0, leaseTtlMs: -1, source: '' } as WorkflowEngineOptions;
    expect(() => parseWorkflowEngineOptions(broken)).toThrow(OptionsError);
    try {
      parseWorkflowEngineOptions(broken);
    } catch (error) {
      const issues = (error as OptionsError).issues.join('\n');
      expect(issues).toContain('workflow engine.concurrency');
      expect(issues).toContain('workflow engine.leaseTtlMs');
      expect(issues).toContain('workflow engine.source');
    }
    expect(() => parseWorkflowEngineOptions({ backend: base.backend } as WorkflowEngineOptions)).toThrow(
      /workflow engine\.store/,
    );
  });
});

describe('instanceQuery', () => {
  it('turns list options into the backend filter', () => {
    expect(instanceQuery({}, 1_000, 5)).toEqual({});
    expect(
      instanceQuery(
        { status: 'running', definition: 'flow', tenantId: 't', slaRisk: true, limit: 3 },
        1_000,
        5,
      ),
    ).toEqual({ status: ['running'], workflowId: 'flow', tenantId: 't', slaDeadlineBefore: 1_005, limit: 3 });
    expect(instanceQuery({ slaRisk: { withinMs: 10 } }, 1_000, 5)).toEqual({ slaDeadlineBefore: 15 });
    expect(instanceQuery({ slaRisk: false }, 1_000, 5)).toEqual({});
  });
});
