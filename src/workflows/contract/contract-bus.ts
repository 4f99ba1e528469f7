import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { z } from 'zod';
import { createPublisher } from '../../bus/publisher.ts';
import type { Publisher } from '../../bus/publisher-port.ts';
import { createRouter } from '../../bus/router.ts';
import type { Router } from '../../bus/router-port.ts';
import { type Catalog, createCatalog } from '../../events/catalog.ts';
import type { CloudEvent } from '../../events/cloud-event.ts';
import { defineEvent } from '../../events/define-event.ts';
import { defineTopic } from '../../events/define-topic.ts';
import { createEmbeddedTransport } from '../../transport/embedded/index.ts';
import type { Transport } from '../../transport/transport.ts';
import { WorkflowAlertsTopic, WorkflowSlaBreached } from '../workflow-events.ts';

/** Command of the contract's command steps: reserve a bed; `mode` tells the test responder how to answer. */
export const ReserveBed = defineEvent({
  type: 'test.beds.reserve',
  version: 1,
  schema: z.object({ patientId: z.string(), mode: z.enum(['ok', 'refuse', 'silent']) }),
  partitionKey: (data) => data.patientId,
});

/** Success reply to ReserveBed. */
export const BedReserved = defineEvent({
  type: 'test.beds.reserved',
  version: 1,
  schema: z.object({ patientId: z.string(), bed: z.string() }),
  partitionKey: (data) => data.patientId,
});

/** Failure reply to ReserveBed. */
export const BedRefused = defineEvent({
  type: 'test.beds.refused',
  version: 1,
  schema: z.object({ patientId: z.string(), reason: z.string() }),
  partitionKey: (data) => data.patientId,
});

/** Trigger event of the contract: a patient arrived at a ward. */
export const PatientArrived = defineEvent({
  type: 'test.patients.arrived',
  version: 1,
  schema: z.object({ patientId: z.string(), ward: z.string() }),
  partitionKey: (data) => data.patientId,
});

const CommandTopic = defineTopic({ name: 'test.beds.commands', partitions: 2, events: [ReserveBed] });
const ReplyTopic = defineTopic({
  name: 'test.beds.replies',
  partitions: 2,
  events: [BedReserved, BedRefused],
});
const ArrivalTopic = defineTopic({ name: 'test.patients.arrivals', partitions: 2, events: [PatientArrived] });

/** Catalog of the contract's bus, with the workflow alerts topic so SLA breaches are published. */
export const contractCatalog: Catalog = createCatalog({
  topics: [CommandTopic, ReplyTopic, ArrivalTopic, WorkflowAlertsTopic],
});

/** An embedded bus for one test, a responder answering ReserveBed, and what it saw. */
export interface ContractBus {
  transport: Transport;
  catalog: Catalog;
  publisher: Publisher;
  /** Commands the responder received. */
  commands: CloudEvent[];
  /** SLA alerts seen on the bus. */
  alerts: CloudEvent[];
  close(): Promise<void>;
}

/** Opens an embedded transport on a fresh file, with a responder (group `responder`) and an alert listener. */
export async function openContractBus(): Promise<ContractBus> {
  const dir = mkdtempSync(join(tmpdir(), 'keel-wf-bus-'));
  const logger = pino({ level: 'silent' });
  const transport = createEmbeddedTransport({ path: join(dir, 'bus.db'), synchronous: 'normal', logger });
  await transport.ensureTopics([CommandTopic, ReplyTopic, ArrivalTopic, WorkflowAlertsTopic]);
  const publisher = createPublisher({ transport, catalog: contractCatalog, source: 'urn:keel:test', logger });
  const commands: CloudEvent[] = [];
  const alerts: CloudEvent[] = [];
  const quiet = { shutdownSignals: [] as NodeJS.Signals[], commitIntervalMs: 10, logger };
  const responder: Router = createRouter({
    transport,
    catalog: contractCatalog,
    group: 'responder',
    ...quiet,
  });
  responder.on(ReserveBed, async (event) => {
    commands.push(event as CloudEvent);
    const { patientId, mode } = event.data!;
    // Published inside the handler, so the reply's causationid is the command's id.
    if (mode === 'ok') await publisher.publish(BedReserved, { patientId, bed: `bed-${patientId}` });
    if (mode === 'refuse') await publisher.publish(BedRefused, { patientId, reason: 'ward full' });
  });
  const alerting: Router = createRouter({ transport, catalog: contractCatalog, group: 'alerts', ...quiet });
  alerting.on(WorkflowSlaBreached, (event) => {
    alerts.push(event as CloudEvent);
  });
  await responder.start();
  await alerting.start();
  return {
    transport,
    catalog: contractCatalog,
    publisher,
    commands,
    alerts,
    async close() {
      await responder.close(1_000);
      await alerting.close(1_000);
      await publisher.close(1_000);
      await transport.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
