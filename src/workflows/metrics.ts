import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { StatusCount } from './backend.ts';

/** The workflow engine's Prometheus metrics (prefixed `keel_workflow`), created on a registry you give. */
export interface WorkflowMetrics {
  /** Unended instances in the database, by workflow and status (running, waiting, compensating, needs_operator); read at scrape time. */
  readonly instances: Gauge<'workflow' | 'status'>;
  /** Instances started, by workflow. */
  readonly started: Counter<'workflow'>;
  /** Instances that completed, by workflow. */
  readonly completed: Counter<'workflow'>;
  /** Instances whose failure was compensated (ended compensated, timed out or cancelled), by workflow and outcome. */
  readonly compensated: Counter<'workflow' | 'outcome'>;
  /** Instances that failed with nothing to compensate, by workflow. */
  readonly failed: Counter<'workflow'>;
  /** Instances that came to need an operator (a compensation kept failing), by workflow. */
  readonly needsOperator: Counter<'workflow'>;
  /** Seconds a step attempt took, by workflow, step and outcome (completed, failed, compensated). */
  readonly stepDuration: Histogram<'workflow' | 'step' | 'outcome'>;
  /** SLA deadlines missed, by workflow and scope (workflow or step). */
  readonly slaBreaches: Counter<'workflow' | 'scope'>;
  /**
   * Registers where the `instances` gauge reads its counts (the engine does this); the last source
   * registered wins.
   */
  observeInstances(source: () => Promise<readonly StatusCount[]>): void;
}

/** Creates the workflow metrics on `registry` (e.g. the node's `KeelMetrics.registry`). */
export function createWorkflowMetrics(registry: Registry): WorkflowMetrics {
  let source: (() => Promise<readonly StatusCount[]>) | undefined;
  const stepBuckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300, 1800];
  const instances = new Gauge({
    name: 'keel_workflow_instances',
    help: 'Unended workflow instances, by workflow and status.',
    labelNames: ['workflow', 'status'],
    registers: [registry],
    async collect() {
      if (source === undefined) return;
      try {
        const counts = await source();
        this.reset();
        for (const { workflowId, status, count } of counts) this.set({ workflow: workflowId, status }, count);
      } catch {
        // A scrape while the database is unreachable shows the last counts rather than failing the scrape.
      }
    },
  });
  return {
    instances,
    started: new Counter({
      name: 'keel_workflow_started_total',
      help: 'Workflow instances started.',
      labelNames: ['workflow'],
      registers: [registry],
    }),
    completed: new Counter({
      name: 'keel_workflow_completed_total',
      help: 'Workflow instances that completed.',
      labelNames: ['workflow'],
      registers: [registry],
    }),
    compensated: new Counter({
      name: 'keel_workflow_compensated_total',
      help: 'Workflow instances undone by compensation, by outcome (compensated, timed_out, cancelled).',
      labelNames: ['workflow', 'outcome'],
      registers: [registry],
    }),
    failed: new Counter({
      name: 'keel_workflow_failed_total',
      help: 'Workflow instances that failed with nothing to compensate.',
      labelNames: ['workflow'],
      registers: [registry],
    }),
    needsOperator: new Counter({
      name: 'keel_workflow_needs_operator_total',
      help: 'Workflow instances that came to need an operator.',
      labelNames: ['workflow'],
      registers: [registry],
    }),
    stepDuration: new Histogram({
      name: 'keel_workflow_step_duration_seconds',
      help: 'Seconds a workflow step attempt (or compensation) took.',
      labelNames: ['workflow', 'step', 'outcome'],
      buckets: stepBuckets,
      registers: [registry],
    }),
    slaBreaches: new Counter({
      name: 'keel_workflow_sla_breaches_total',
      help: 'Workflow SLA deadlines missed.',
      labelNames: ['workflow', 'scope'],
      registers: [registry],
    }),
    observeInstances(next) {
      source = next;
    },
  };
}
