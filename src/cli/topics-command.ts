import type { Command, Option } from 'commander';
import type { ConfigFlags } from '../config/load-config.ts';
import type { TopicDefinition } from '../events/define-topic.ts';
import type { KafkaTransport, TopicAccessConfig } from '../transport/kafka/index.ts';
import type { TopicConfig } from '../transport/transport.ts';
import { EXIT_FAILURE, reportFailure } from './fail.ts';
import type { TextSink } from './gated-stream.ts';

/** `plan` shows what would change; `apply` shows it, then makes the changes. */
export type TopicsMode = 'plan' | 'apply';

/**
 * `keel topics plan|apply`: compares the catalog's topic definitions with the Kafka cluster
 * (`KEEL_KAFKA_BROKERS`) and prints the diff; `apply` then creates missing topics, raises partitions and
 * sets retention, compaction and min ISR, and makes the ACLs of topics with an `access` definition exactly
 * the defined ones. A change Kafka cannot make (fewer partitions, another
 * replication) is refused: nothing is applied and the exit code is 1. Resolves with the exit code.
 */
export async function runTopics(
  mode: TopicsMode,
  flags: ConfigFlags,
  stdout: TextSink,
  stderr: TextSink,
): Promise<number> {
  let transport: KafkaTransport | undefined;
  try {
    // Loaded on use, so `keel --help` does not load the Kafka client.
    const [{ pino }, { kafkaConnection }, { loadCatalog }, { describeKey, loadConfig }, kafka] =
      await Promise.all([
        import('pino'),
        import('../config/kafka-connection.ts'),
        import('../config/load-catalog.ts'),
        import('../config/load-config.ts'),
        import('../transport/kafka/index.ts'),
      ]);
    const { config, sources } = await loadConfig({ flags });
    const { catalog, label } = await loadCatalog({
      path: config.catalog,
      allowUntyped: config.allowUntyped,
      key: describeKey('catalog', sources.catalog),
    });
    const connection = kafkaConnection(config, sources, `by keel topics ${mode}`);
    transport = kafka.createKafkaTransport({
      ...connection,
      clientId: 'keel-cli',
      logger: pino({ level: config.logLevel }, pino.destination(2)),
    });
    const definitions = catalog.topics.map(toTopicConfig);
    const plan = await transport.planTopics(definitions);
    const access = catalog.topics.flatMap(toAccessConfig);
    const acls = access.length > 0 ? await transport.planAcls(access) : undefined;
    stdout.write(`topics of catalog ${label} on ${connection.brokers.join(',')}\n`);
    stdout.write(kafka.formatTopicPlan(plan));
    if (acls !== undefined) stdout.write(kafka.formatAclPlan(acls));
    if (plan.refusals.length > 0) {
      stderr.write(
        `keel: ${mode === 'apply' ? 'refused, nothing changed' : 'the plan cannot be applied'}: ${plan.refusals
          .map((r) => r.message)
          .join('; ')}\n`,
      );
      return EXIT_FAILURE;
    }
    if (mode === 'plan') return 0;
    const aclChanges = acls === undefined ? 0 : acls.create.length + acls.delete.length;
    if (plan.changes.length === 0 && aclChanges === 0) {
      stdout.write('nothing to change\n');
      return 0;
    }
    // Topics first: an ACL on a topic that does not exist yet is allowed, but reads better after it.
    await transport.applyTopics(plan);
    if (acls !== undefined && aclChanges > 0) await transport.applyAcls(acls);
    stdout.write(`applied ${plan.changes.length + aclChanges} change(s)\n`);
    return 0;
  } catch (error) {
    return reportFailure(error, stderr, `topics ${mode}`);
  } finally {
    await transport?.close().catch(() => undefined);
  }
}

/** Adds `keel topics plan` and `keel topics apply` and returns `topics`; `options` makes the `--config`/`--catalog` options each takes. */
export function registerTopicsCommand(program: Command, options: () => readonly Option[]): Command {
  const topics = program
    .command('topics')
    .description(
      "topics: bring the Kafka cluster's to the catalog's definitions (`plan`, `apply`), or look at a running node's (`list`, `describe`)",
    );
  for (const [mode, description] of [
    [
      'plan',
      'print what `apply` would change (create topics, raise partitions, set retention/compaction/min ISR, ACLs)',
    ],
    [
      'apply',
      'print the plan, then make its changes; a change Kafka cannot make is refused and nothing changes',
    ],
  ] as const) {
    const command = topics.command(mode).description(description);
    for (const option of options()) command.addOption(option);
    command.action(async (flags: { config?: string; catalog?: string }) => {
      process.exit(await runTopics(mode, flags, process.stdout, process.stderr));
    });
  }
  return topics;
}

function toAccessConfig(topic: TopicDefinition): TopicAccessConfig[] {
  return topic.access === undefined
    ? []
    : [{ topic: topic.name, produce: topic.access.produce, consume: topic.access.consume }];
}

function toTopicConfig(topic: TopicDefinition): TopicConfig {
  const config: TopicConfig = {
    name: topic.name,
    partitions: topic.partitions,
    replication: topic.replication,
    compacted: topic.compacted,
  };
  if (topic.retentionMs !== undefined) config.retentionMs = topic.retentionMs;
  if (topic.retentionBytes !== undefined) config.retentionBytes = topic.retentionBytes;
  if (topic.minInsyncReplicas !== undefined) config.minInsyncReplicas = topic.minInsyncReplicas;
  return config;
}
