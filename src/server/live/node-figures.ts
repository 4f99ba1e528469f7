import { z } from 'zod';
import { deadLetterTopic } from '../../bus/dead-letter/topic-names.ts';
import type { Catalog } from '../../events/catalog.ts';
import type { KeelMetrics } from '../../observability/metrics.ts';
import type { GroupAdmin } from '../../transport/group-admin.ts';
import type { Transport } from '../../transport/transport.ts';
import type { WorkflowEngine } from '../../workflows/engine-types.ts';

/** Where the node's figures come from. */
export interface FigureSources {
  transport: Transport;
  groupAdmin: GroupAdmin | undefined;
  catalog: Catalog;
  metrics: KeelMetrics;
  /** The workflow engine, for instances at risk; absent without a store. */
  workflows: WorkflowEngine | undefined;
}

/** Most instances counted per SLA state in one sample (a count past it shows as the bound). */
const WORKFLOW_COUNT_BOUND = 1_000;

/** One look at the node: totals, from which two looks in a row give rates. */
export interface FiguresSample {
  /** When it was taken, ms since the epoch. */
  at: number;
  /** Records on the catalog topics (sum of the partitions' ends). */
  appended: bigint;
  /** Committed offsets summed per group (records the group has handled). */
  committed: Map<string, bigint>;
  lag: Map<string, bigint>;
  /** Records in each group's dead-letter topic. */
  deadLetters: Map<string, bigint>;
  /** Events this node appended and publish errors, from its own metrics. */
  published: number;
  publishErrors: number;
  breakers: { name: string; state: 'closed' | 'open' | 'half-open' }[];
  workflows: { atRisk: number; breached: number; needsOperator: number } | null;
}

/** JSON shape of the node's figures. */
export const figuresSchema = z.object({
  at: z.iso.datetime(),
  intervalMs: z.int().nullable().describe('Milliseconds since the previous figures (null for the first).'),
  rates: z
    .object({
      appendedPerSecond: z.number().describe('Records appended to the catalog topics, by anyone.'),
      consumedPerSecond: z
        .number()
        .describe('Records the consumer groups committed past, all groups together.'),
      publishedPerSecond: z.number().describe('Events this node published (its HTTP API).'),
      publishErrorsPerSecond: z.number(),
      deadLetteredPerSecond: z
        .number()
        .describe("Records added to the groups' dead-letter topics: failures."),
    })
    .nullable()
    .describe('Rates since the previous figures; null for the first.'),
  lag: z.object({
    total: z.number(),
    groups: z.array(z.object({ group: z.string(), lag: z.number() })),
  }),
  deadLetters: z
    .object({ total: z.number(), groups: z.array(z.object({ group: z.string(), held: z.number() })) })
    .describe("Records in each group's dead-letter topic (pending, retried and discarded alike)."),
  breakers: z
    .array(z.object({ name: z.string(), state: z.enum(['closed', 'open', 'half-open']) }))
    .describe("Circuit breakers of the routers running in this node's process."),
  workflows: z
    .object({ atRisk: z.int(), breached: z.int(), needsOperator: z.int() })
    .nullable()
    .describe(
      `Unended instances at risk, breached, and needing an operator (each counted up to ${WORKFLOW_COUNT_BOUND}).`,
    ),
});

const sum = (values: Iterable<bigint>): bigint => {
  let total = 0n;
  for (const value of values) total += value;
  return total;
};

const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;

async function metricTotal(metric: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await metric.get()).values.reduce((total, v) => total + v.value, 0);
}

async function workflowCounts(engine: WorkflowEngine | undefined): Promise<FiguresSample['workflows']> {
  if (engine === undefined) return null;
  const limit = WORKFLOW_COUNT_BOUND;
  const [atRisk, breached, needsOperator] = await Promise.all([
    engine.list({ slaState: 'at-risk', limit }),
    engine.list({
      slaState: 'breached',
      status: ['running', 'waiting', 'compensating', 'needs_operator'],
      limit,
    }),
    engine.list({ status: 'needs_operator', limit }),
  ]);
  return { atRisk: atRisk.length, breached: breached.length, needsOperator: needsOperator.length };
}

/** Takes one look at the node: topic ends, each group's commits, lag and dead letters, metrics, workflows. */
export async function sampleFigures(sources: FigureSources): Promise<FiguresSample> {
  const { transport, groupAdmin, metrics } = sources;
  const at = Date.now();
  let appended = 0n;
  for (const topic of sources.catalog.topics) {
    if ((await transport.describeTopic(topic.name)) === undefined) continue;
    appended += sum((await transport.offsets(topic.name)).map((p) => p.latest));
  }
  const committed = new Map<string, bigint>();
  const lag = new Map<string, bigint>();
  const deadLetters = new Map<string, bigint>();
  for (const [group, topics] of groupAdmin === undefined ? [] : await groupAdmin.topicsByGroup()) {
    const own = topics.filter((topic) => topic !== deadLetterTopic(group));
    const lags = own.length === 0 ? [] : await transport.groupLag(group, own);
    committed.set(group, sum(lags.map((p) => p.committed ?? 0n)));
    lag.set(group, sum(lags.map((p) => p.lag)));
    if ((await transport.describeTopic(deadLetterTopic(group))) !== undefined) {
      deadLetters.set(
        group,
        sum((await transport.offsets(deadLetterTopic(group))).map((p) => p.latest - p.earliest)),
      );
    }
  }
  const breakers = (await metrics.circuitBreakerState.get()).values
    .map((v) => ({ name: String(v.labels.name), state: BREAKER_STATES[v.value] ?? 'open' }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return {
    at,
    appended,
    committed,
    lag,
    deadLetters,
    published: await metricTotal(metrics.eventPublished),
    publishErrors: await metricTotal(metrics.publishErrors),
    breakers,
    workflows: await workflowCounts(sources.workflows),
  };
}

/** How fast per-group totals grew, over the groups seen in both looks (a group that appears is no burst). */
function groupRate(current: Map<string, bigint>, previous: Map<string, bigint>, seconds: number): number {
  if (seconds <= 0) return 0;
  let moved = 0n;
  for (const [group, now] of current) {
    const before = previous.get(group);
    if (before !== undefined && now > before) moved += now - before;
  }
  return Number(moved) / seconds;
}

/** The figures as JSON: totals from `current`, rates from the change since `previous` (when given). */
export function figuresView(current: FiguresSample, previous?: FiguresSample): z.input<typeof figuresSchema> {
  const seconds = previous === undefined ? 0 : (current.at - previous.at) / 1000;
  const rate = (now: bigint | number, before: bigint | number) =>
    seconds > 0 ? Math.max(0, Number(now) - Number(before)) / seconds : 0;
  const groups = [...current.lag.keys()].sort();
  return {
    at: new Date(current.at).toISOString(),
    intervalMs: previous === undefined ? null : current.at - previous.at,
    rates:
      previous === undefined
        ? null
        : {
            appendedPerSecond: rate(current.appended, previous.appended),
            consumedPerSecond: groupRate(current.committed, previous.committed, seconds),
            publishedPerSecond: rate(current.published, previous.published),
            publishErrorsPerSecond: rate(current.publishErrors, previous.publishErrors),
            deadLetteredPerSecond: groupRate(current.deadLetters, previous.deadLetters, seconds),
          },
    lag: {
      total: Number(sum(current.lag.values())),
      groups: groups.map((group) => ({ group, lag: Number(current.lag.get(group) ?? 0n) })),
    },
    deadLetters: {
      total: Number(sum(current.deadLetters.values())),
      groups: [...current.deadLetters.keys()]
        .sort()
        .map((group) => ({ group, held: Number(current.deadLetters.get(group)) })),
    },
    breakers: current.breakers,
    workflows: current.workflows,
  };
}
