import type { Admin } from '@platformatic/kafka';
import type { TopicConfig } from '../transport.ts';
import { TopicChangeRefusedError, type TopicRefusal } from './errors.ts';
import {
  alterTopicConfigs,
  createTopic,
  describeTopic,
  type ManagedConfig,
  raisePartitions,
  sameConfig,
  topicConfigs,
  waitForLeaders,
} from './topic-admin.ts';

/** One change that brings a topic to its definition. */
export type TopicChange =
  | { kind: 'create'; topic: string; config: TopicConfig }
  | { kind: 'add-partitions'; topic: string; from: number; to: number }
  | {
      kind: 'alter-configs';
      topic: string;
      /** Each configuration value that differs: the cluster's now and the definition's. */
      configs: readonly { name: ManagedConfig; from: string; to: string }[];
    };

/** What applying the definitions would do: changes, refusals (changes Kafka cannot make) and topics already right. */
export interface TopicPlan {
  changes: readonly TopicChange[];
  refusals: readonly TopicRefusal[];
  /** Topics that already match their definition. */
  unchanged: readonly string[];
}

/** Compares each definition with the cluster: the diff `applyTopicPlan` would make, changing nothing. */
export async function planTopics(admin: Admin, definitions: readonly TopicConfig[]): Promise<TopicPlan> {
  const names = new Set<string>();
  for (const definition of definitions) {
    if (names.has(definition.name))
      throw new TypeError(`planTopics: topic "${definition.name}" is defined twice`);
    names.add(definition.name);
  }
  const changes: TopicChange[] = [];
  const refusals: TopicRefusal[] = [];
  const unchanged: string[] = [];
  const current = await Promise.all(definitions.map((definition) => describeTopic(admin, definition.name)));
  definitions.forEach((definition, index) => {
    const topic = definition.name;
    const now = current[index];
    if (now === undefined) {
      changes.push({ kind: 'create', topic, config: definition });
      return;
    }
    let changed = false;
    if (definition.partitions < now.partitions) {
      refusals.push({
        topic,
        reason: 'fewer-partitions',
        message: `topic "${topic}" has ${now.partitions} partitions and its definition asks for ${definition.partitions}: Kafka cannot remove partitions (raise the definition to ${now.partitions}, or create a new topic and move the consumers)`,
      });
    } else if (definition.partitions > now.partitions) {
      changes.push({ kind: 'add-partitions', topic, from: now.partitions, to: definition.partitions });
      changed = true;
    }
    if (definition.replication !== undefined && definition.replication !== now.replication) {
      refusals.push({
        topic,
        reason: 'replication-change',
        message: `topic "${topic}" has replication ${now.replication} and its definition asks for ${definition.replication}: changing it moves replicas between brokers, which keel does not do (reassign with kafka-reassign-partitions, or set the definition to ${now.replication})`,
      });
    }
    const configs: { name: ManagedConfig; from: string; to: string }[] = [];
    for (const [name, to] of Object.entries(topicConfigs(definition)) as [ManagedConfig, string][]) {
      const from = now.configs[name];
      if (!sameConfig(name, from, to)) configs.push({ name, from, to });
    }
    if (configs.length > 0) {
      changes.push({ kind: 'alter-configs', topic, configs });
      changed = true;
    }
    if (!changed && !refusals.some((r) => r.topic === topic)) unchanged.push(topic);
  });
  return { changes, refusals, unchanged };
}

/**
 * Makes the plan's changes; refuses (TopicChangeRefusedError, nothing changed) when the plan has refusals.
 * Idempotent: every step leaves a topic that already matches as it is, so a plan applied twice is harmless.
 */
export async function applyTopicPlan(admin: Admin, plan: TopicPlan): Promise<void> {
  if (plan.refusals.length > 0) throw new TopicChangeRefusedError(plan.refusals);
  const grown = new Map<string, number>();
  for (const change of plan.changes) {
    switch (change.kind) {
      case 'create':
        await createTopic(admin, change.config);
        grown.set(change.topic, change.config.partitions);
        break;
      case 'add-partitions':
        await raisePartitions(admin, change.topic, change.to);
        grown.set(change.topic, change.to);
        break;
      case 'alter-configs':
        await alterTopicConfigs(
          admin,
          change.topic,
          Object.fromEntries(change.configs.map((c) => [c.name, c.to])),
        );
        break;
    }
  }
  await waitForLeaders(admin, [...grown.keys()], grown);
}

/** The plan as the lines `keel topics plan` prints: `+` create, `~` change, `!` refused, `=` unchanged. */
export function formatTopicPlan(plan: TopicPlan): string {
  const lines: string[] = [];
  for (const change of plan.changes) {
    switch (change.kind) {
      case 'create': {
        const c = change.config;
        const settings = Object.entries(topicConfigs(c))
          .map(([name, value]) => `${name}=${value}`)
          .join(', ');
        lines.push(
          `+ create ${change.topic}: ${c.partitions} partition${c.partitions === 1 ? '' : 's'}, replication ${c.replication ?? 'default'}, ${settings}`,
        );
        break;
      }
      case 'add-partitions':
        lines.push(`~ raise partitions of ${change.topic}: ${change.from} -> ${change.to}`);
        break;
      case 'alter-configs':
        for (const c of change.configs) {
          lines.push(`~ set ${c.name} of ${change.topic}: ${c.from || '(unset)'} -> ${c.to}`);
        }
        break;
    }
  }
  for (const refusal of plan.refusals) lines.push(`! refused: ${refusal.message}`);
  for (const topic of plan.unchanged) lines.push(`= ${topic} is up to date`);
  if (lines.length === 0) lines.push('no topics defined');
  return `${lines.join('\n')}\n`;
}
