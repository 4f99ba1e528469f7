import { randomUUID } from 'node:crypto';
import type { Consumer } from '../../../src/transport/transport.ts';

/** The example catalog's topic and event type that the monitoring tests publish. */
export const TOPIC = 'healthcare.patients.events';

/** Publishes `count` PatientCreated events through the node's HTTP API; throws on any refusal. */
export async function publishPatients(url: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: '1.0',
        id: randomUUID(),
        source: 'urn:keel:monitoring-test',
        type: 'healthcare.patient.created',
        datacontenttype: 'application/json',
        data: {
          patientId: `p-${randomUUID()}`,
          firstName: 'Ada',
          lastName: 'Lovelace',
          dateOfBirth: '1815-12-10',
        },
      }),
    });
    if (!response.ok) throw new Error(`publish answered ${response.status}: ${await response.text()}`);
  }
}

/** Polls once and commits what it read; returns how many records it read. */
export async function consumeOnce(consumer: Consumer, timeoutMs = 200): Promise<number> {
  const records = await consumer.poll(timeoutMs);
  const next = new Map<string, { topic: string; partition: number; offset: bigint }>();
  for (const r of records)
    next.set(`${r.topic}:${r.partition}`, { topic: r.topic, partition: r.partition, offset: r.offset + 1n });
  if (next.size > 0) await consumer.commit([...next.values()]);
  return records.length;
}
