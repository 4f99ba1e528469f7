import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { GroupAdmin } from '../../transport/group-admin.ts';
import type { Transport } from '../../transport/transport.ts';

const DLQ_SUFFIX = '.dlq';

/** What the node's scrape-time gauges read. */
export interface ScrapeGaugeSources {
  registry: Registry;
  transport: Transport;
  groupAdmin: GroupAdmin;
  logger: Logger;
}

/**
 * Registers gauges the node reads from the transport at each scrape: the lag of every consumer group
 * (`keel_consumer_group_lag_messages`) and the records on every dead-letter topic (`keel_dlq_records`).
 * Measured by the node, not by the consumers, so a stopped consumer's lag keeps growing in Prometheus
 * instead of freezing at the last value it reported.
 */
export function registerScrapeGauges(sources: ScrapeGaugeSources): void {
  const { registry, transport, groupAdmin, logger } = sources;
  new Gauge({
    name: 'keel_consumer_group_lag_messages',
    help: 'Records between the committed offset of a consumer group and the end of a partition, read by the node at scrape time.',
    labelNames: ['group', 'topic', 'partition'],
    registers: [registry],
    async collect() {
      try {
        const lags = await readGroupLags(transport, groupAdmin);
        this.reset();
        for (const l of lags)
          this.set({ group: l.group, topic: l.topic, partition: String(l.partition) }, l.lag);
      } catch (error) {
        // A scrape while the transport is unreachable shows the last values rather than failing the scrape.
        logger.warn({ err: error }, 'cannot read consumer group lag for /metrics');
      }
    },
  });
  new Gauge({
    name: 'keel_dlq_records',
    help: "Records retained on a consumer group's dead-letter topic (<group>.dlq), read by the node at scrape time.",
    labelNames: ['group'],
    registers: [registry],
    async collect() {
      try {
        const sizes = await readDlqSizes(transport);
        this.reset();
        for (const [group, records] of sizes) this.set({ group }, records);
      } catch (error) {
        logger.warn({ err: error }, 'cannot read dead-letter topic sizes for /metrics');
      }
    },
  });
}

async function readGroupLags(transport: Transport, groupAdmin: GroupAdmin) {
  const existing = new Set(await transport.listTopics());
  const result: { group: string; topic: string; partition: number; lag: number }[] = [];
  for (const [group, topics] of await groupAdmin.topicsByGroup()) {
    const present = topics.filter((topic) => existing.has(topic));
    if (present.length === 0) continue;
    for (const l of await transport.groupLag(group, present)) {
      result.push({ group, topic: l.topic, partition: l.partition, lag: Number(l.lag) });
    }
  }
  return result;
}

async function readDlqSizes(transport: Transport): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const topic of await transport.listTopics()) {
    if (!topic.endsWith(DLQ_SUFFIX)) continue;
    let records = 0n;
    for (const p of await transport.offsets(topic)) records += p.latest - p.earliest;
    sizes.set(topic.slice(0, -DLQ_SUFFIX.length), Number(records));
  }
  return sizes;
}
