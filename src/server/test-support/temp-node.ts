import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { catalog as exampleCatalog } from '../../../examples/catalog.ts';
import { configSchema, type KeelConfigInput } from '../../config/config-schema.ts';
import type { Catalog } from '../../events/catalog.ts';
import type { IngestorDefinition } from '../../events/define-ingestor.ts';
import type { ProjectionDefinition } from '../../store/projections/projection.ts';
import type { KafkaTransport } from '../../transport/kafka/kafka-transport.ts';
import type { WorkflowDefinition } from '../../workflows/define-workflow.ts';
import { createNode, type KeelNode } from '../node.ts';
import type { LiveTailOptions } from '../topics/live-tail.ts';

/** A started node on a fresh SQLite file in a temporary folder, and how to dispose of both. */
export interface TempNode {
  node: KeelNode;
  dir: string;
  /** Closes the node and deletes its folder. */
  close(): Promise<void>;
  /** Sum of the log end offsets of every topic but the audit trail's: unchanged means nothing was written. */
  totalRecords(): Promise<bigint>;
}

/** Starts a node on 127.0.0.1, a free port and a temporary data folder (example catalog unless given). */
export async function startTempNode(
  options: {
    config?: KeelConfigInput;
    catalog?: Catalog;
    liveTail?: LiveTailOptions;
    /** Workflow definitions the node runs. */
    workflows?: readonly WorkflowDefinition[];
    /** Projection definitions the node may rebuild. */
    projections?: readonly ProjectionDefinition[];
    /** Formats the node takes at `POST /v1/ingest/<name>`. */
    ingestors?: readonly IngestorDefinition[];
    /** Folder of a built web console to serve. */
    consoleDir?: string;
    /** Scheduled reports the node runs. */
    reports?: readonly unknown[];
  } = {},
): Promise<TempNode> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-node-'));
  // Normal sync: these tests check behaviour, not power-loss durability, and should be fast.
  // On the shared Kafka cluster each node's audit trail gets a topic of its own, deleted at close: one trail
  // per topic.
  const ownAuditTopic =
    options.config?.transport === 'kafka' && options.config.auditTopic === undefined
      ? `keel.audit.test-${randomUUID().slice(0, 8)}`
      : undefined;
  const config = configSchema.parse({
    port: 0,
    logLevel: 'silent',
    sync: 'normal',
    ...(ownAuditTopic ? { auditTopic: ownAuditTopic } : {}),
    ...options.config,
    dataDir: dir,
  });
  let node: KeelNode;
  try {
    node = createNode({
      config,
      catalog: options.catalog ?? exampleCatalog,
      logger: pino({ level: 'silent' }),
      // Every answer is checked against its schema, so the OpenAPI document is proven by every API test.
      checkAnswers: true,
      ...(options.liveTail ? { liveTail: options.liveTail } : {}),
      ...(options.workflows ? { workflows: options.workflows } : {}),
      ...(options.projections ? { projections: options.projections } : {}),
      ...(options.ingestors ? { ingestors: options.ingestors } : {}),
      ...(options.consoleDir ? { consoleDir: options.consoleDir } : {}),
      ...(options.reports ? { reports: options.reports } : {}),
    });
  } catch (error) {
    // A configuration the node refuses (tests of bad settings) is refused before anything opens.
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  try {
    await node.start();
  } catch (error) {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    node,
    dir,
    async close() {
      if (ownAuditTopic) {
        await node.auditRelay.drained();
        await (node.transport as KafkaTransport).deleteTopics([ownAuditTopic]).catch(() => {});
      }
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    },
    async totalRecords() {
      let total = 0n;
      for (const topic of await node.transport.listTopics()) {
        if (topic === config.auditTopic) continue;
        for (const partition of await node.transport.offsets(topic)) total += partition.latest;
      }
      return total;
    },
  };
}
