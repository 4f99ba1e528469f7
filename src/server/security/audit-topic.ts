import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import {
  type AuditLog,
  type AuditRecord,
  type AuditVerification,
  firstBroken,
  GENESIS_HASH,
} from '../../security/audit/audit-log.ts';
import type { StoredRecord, TopicConfig, Transport } from '../../transport/transport.ts';

/** Header carrying a record's chain hash on `keel.audit` (the value is the exact hashed CloudEvent text). */
export const AUDIT_HASH_HEADER = 'keel_audit_hash';

/** Records forwarded per append to the topic. */
const BATCH = 500;
/** Milliseconds before forwarding is tried again after the transport failed. */
const RETRY_MS = 1_000;

/**
 * The audit topic (`keel.audit` unless configured): one partition, so it holds the chain in order; kept
 * forever (the chain is only provable whole).
 */
export function auditTopicConfig(name: string, replication: number): TopicConfig {
  return { name, partitions: 1, replication };
}

/** Forwards the audit trail's records, in chain order, to `keel.audit`. */
export interface AuditRelay {
  /** Reads where the topic stands and forwards what it misses; call after the topic exists. */
  start(): Promise<void>;
  /** Forwards the records appended since the last call (in the background; never throws). */
  kick(): void;
  /** Resolves once every record appended before the call is on the topic (tests, shutdown). */
  drained(): Promise<void>;
  /** Stops forwarding after the batch in flight. */
  close(): Promise<void>;
}

/**
 * Forwards each audit record, once stored in its table, to `keel.audit` as a structured-mode CloudEvent whose
 * value is the exact hashed text, so the topic alone can be verified. The topic is its own checkpoint: on
 * start the last record's `auditseq` says where to resume, so a crash between the table and the topic loses
 * nothing (a record may then appear twice; readers drop a repeated `auditseq`).
 */
export function createAuditRelay(options: {
  log: AuditLog;
  transport: Transport;
  /** The audit topic's name. */
  topic: string;
  logger: Logger;
  registry?: Registry;
}): AuditRelay {
  const { log, transport, topic, logger } = options;
  const failures = options.registry
    ? new Counter({
        name: 'keel_audit_topic_failures_total',
        help: 'Attempts to forward audit records to keel.audit that failed (retried).',
        registers: [options.registry],
      })
    : undefined;
  let forwarded = -1;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const forward = async (): Promise<void> => {
    for (;;) {
      const records = await log.list(forwarded, BATCH);
      if (records.length === 0) return;
      await transport.append([{ topic, partition: 0, records: records.map(outgoingOf) }]);
      forwarded = (records[records.length - 1] as AuditRecord).seq;
    }
  };
  const run = (): Promise<void> => {
    running ??= (async () => {
      do {
        again = false;
        if (forwarded < 0) forwarded = await lastForwarded(transport, topic, log);
        await forward();
      } while (again && !closed);
    })()
      .catch((error: unknown) => {
        // Retried on a timer, not at once: a broker that is down is not hammered.
        again = false;
        failures?.inc();
        logger.error({ err: error }, 'forwarding audit records to keel.audit failed; retrying');
        if (!closed) retry = setTimeout(kick, RETRY_MS);
      })
      .finally(() => {
        running = undefined;
        // A kick that came after the loop's last look is not lost.
        if (again && !closed) void run();
      });
    return running;
  };
  const kick = (): void => {
    if (closed) return;
    again = true;
    void run();
  };
  return {
    start: () => run(),
    kick,
    async drained() {
      while (running) await running;
      await run();
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      await running;
    },
  };
}

/** An audit log whose appends are also forwarded to `keel.audit` by `relay`. */
export function relayedAuditLog(log: AuditLog, relay: AuditRelay): AuditLog {
  return {
    ...log,
    async append(entry) {
      const record = await log.append(entry);
      relay.kick();
      return record;
    },
  };
}

/**
 * Walks the chain as `keel.audit` holds it, from its first record: each value's hash, its link to the one
 * before, no gap; a repeated `auditseq` with the same hash is a harmless duplicate. `behind` is how many
 * records of the table the topic does not hold yet.
 */
export async function verifyAuditTopic(
  transport: Transport,
  topic: string,
  tableRecords: number,
): Promise<AuditVerification & { behind: number }> {
  const [partition] = await transport.offsets(topic);
  let offset = partition?.earliest ?? 0n;
  const end = partition?.latest ?? 0n;
  let previous = { seq: 0, hash: GENESIS_HASH };
  while (offset < end) {
    const stored = await transport.read(topic, 0, offset, BATCH);
    if (stored.length === 0) break;
    offset = (stored[stored.length - 1] as StoredRecord).offset + 1n;
    const records = stored.map(auditRecordOf).filter((record) => !repeats(record, previous.seq));
    const broken = firstBroken(records, previous);
    if (broken) return { ok: false, records: previous.seq, ...broken, behind: tableRecords - previous.seq };
    const last = records[records.length - 1];
    if (last) previous = { seq: last.seq, hash: last.hash };
  }
  return { ok: true, records: previous.seq, behind: Math.max(0, tableRecords - previous.seq) };
}

/** A record forwarded twice (after a restart): one already walked. */
const repeats = (record: AuditRecord, walked: number): boolean => record.seq >= 1 && record.seq <= walked;

function outgoingOf(record: AuditRecord) {
  return {
    key: 'keel.audit',
    value: Buffer.from(record.event, 'utf8'),
    headers: {
      'content-type': 'application/cloudevents+json; charset=utf-8',
      [AUDIT_HASH_HEADER]: record.hash,
    },
  };
}

/** The chain record a `keel.audit` message carries (an unreadable one gets seq -1 and fails verification). */
function auditRecordOf(stored: StoredRecord): AuditRecord {
  const event = stored.value === null ? '' : Buffer.from(stored.value).toString('utf8');
  try {
    const parsed = JSON.parse(event) as { auditseq?: unknown; prevhash?: unknown };
    return {
      seq: typeof parsed.auditseq === 'number' ? parsed.auditseq : -1,
      event,
      prevHash: typeof parsed.prevhash === 'string' ? parsed.prevhash : '',
      hash: stored.headers[AUDIT_HASH_HEADER] ?? '',
    };
  } catch {
    return { seq: -1, event, prevHash: '', hash: '' };
  }
}

/**
 * The `auditseq` of the topic's last record (0 when empty): where forwarding resumes. A topic ahead of the
 * trail holds another trail's records (or the trail lost records): refused, nothing is forwarded.
 */
async function lastForwarded(transport: Transport, topic: string, log: AuditLog): Promise<number> {
  const [partition] = await transport.offsets(topic);
  if (partition === undefined || partition.latest <= partition.earliest) return 0;
  const [last] = await transport.read(topic, 0, partition.latest - 1n, 1);
  const seq = last === undefined ? 0 : auditRecordOf(last).seq;
  if (seq < 0) throw new Error(`the last record of ${topic} is not an audit record: cannot resume`);
  const [newest] = await log.query({ order: 'desc', limit: 1 });
  if (seq > (newest?.seq ?? 0)) {
    throw new Error(
      `${topic} holds record ${seq} but the audit trail ends at ${newest?.seq ?? 0}: another trail writes to it (set KEEL_AUDIT_TOPIC)`,
    );
  }
  return seq;
}
