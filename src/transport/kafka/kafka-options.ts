import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { SASLOptions } from '@platformatic/kafka';
import type { Logger } from 'pino';
import { z } from 'zod';
import { parseOptions } from '../../errors/options.ts';
import { anObject, nonNegativeInt, positiveInt } from '../option-schemas.ts';

/** Record compression of produced batches. */
export type KafkaCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** SASL mechanisms the adapter passes through to the brokers. */
export type KafkaSaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

/** SASL credentials (over TLS in production: PLAIN sends the password as is). */
export interface KafkaSaslOptions {
  mechanism: KafkaSaslMechanism;
  username: string;
  password: string;
}

/** How the producer batches appends; it is always idempotent with `acks=all`. */
export interface KafkaProducerOptions {
  /** Codec of record batches; default `none`. */
  compression?: KafkaCompression;
  /**
   * Milliseconds an append waits for others to share its produce request when nothing is in flight;
   * default 0 (the next turn of the event loop). Under load batches also grow while a request is in flight.
   */
  lingerMs?: number;
  /** Most records in one produce request; default 10 000. */
  maxBatchRecords?: number;
  /**
   * Most bytes (keys, values and headers, uncompressed) in one produce request; default 1 000 000, so that
   * no partition's batch exceeds the brokers' default `message.max.bytes` (1 048 588) even uncompressed.
   */
  maxBatchBytes?: number;
  /** Milliseconds an append may take from its first produce request to its acknowledgement, requests sent again included, before it fails; default 120 000. */
  deliveryTimeoutMs?: number;
  /**
   * Kafka `transactional.id` of the producer behind `appendAtomically` (created on first use). Give each
   * process a stable id of its own (e.g. `orders-api-0`): a restart then fences the previous incarnation
   * and aborts its unfinished transaction at once. Default: `<clientId>-<random uuid>`, unique but new on
   * every start, so a transaction cut short by a crash holds back `read_committed` consumers of its
   * partitions until `transactionTimeoutMs` passes.
   */
  transactionalId?: string;
  /** Milliseconds after which the brokers abort a transaction that was not committed; default 15 000. */
  transactionTimeoutMs?: number;
}

/** Defaults for the group members this transport creates (each `consumer()` call may override). */
export interface KafkaConsumerDefaults {
  /** Milliseconds between heartbeats when the member's options do not say; default a third of the session timeout, at most 3 000. */
  heartbeatIntervalMs?: number;
  /** Milliseconds the group waits for members to rejoin (and finish `onPartitionsRevoked`) in a rebalance; default 60 000. */
  rebalanceTimeoutMs?: number;
  /** Longest a fetch waits at the broker for records, in milliseconds; default 500. */
  fetchMaxWaitMs?: number;
  /** Most bytes one fetch returns per partition; default 1 MiB. */
  fetchMaxBytesPerPartition?: number;
}

/** How to connect the Kafka transport. */
export interface KafkaTransportOptions {
  /** Bootstrap servers, `host:port`. */
  brokers: readonly string[];
  /** Client id sent to the brokers (quotas, logs); default `keel`. */
  clientId?: string;
  /** TLS options of Node's `tls.connect` (ca, cert, key, servername...); `true` uses the system's CAs. */
  tls?: TlsConnectionOptions | true;
  /** SASL authentication. */
  sasl?: KafkaSaslOptions;
  /** Milliseconds to wait for a TCP (and TLS) connection; default 5 000. */
  connectTimeoutMs?: number;
  /** Milliseconds one request may take; default 30 000. */
  requestTimeoutMs?: number;
  producer?: KafkaProducerOptions;
  consumer?: KafkaConsumerDefaults;
  /** Where diagnostics go; default silent. */
  logger?: Logger;
}

/** The connection settings every client of the adapter shares, in @platformatic/kafka's terms. */
export interface KafkaClientBaseOptions {
  clientId: string;
  bootstrapBrokers: string[];
  connectTimeout: number;
  timeout: number;
  requestTimeout: number;
  tls?: TlsConnectionOptions;
  sasl?: SASLOptions;
}

const brokerPattern = /^[^\s:,]+:\d{1,5}$/;
const mechanisms = [
  'PLAIN',
  'SCRAM-SHA-256',
  'SCRAM-SHA-512',
] as const satisfies readonly KafkaSaslMechanism[];
const compressions = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const satisfies readonly KafkaCompression[];
const oneOf =
  (values: readonly string[]) =>
  (issue: { input?: unknown }): string =>
    `"${String(issue.input)}" is not one of ${values.join(', ')}`;
const brokersError = 'must list at least one host:port';
const credentialsError = 'sasl needs a username and a password';

/** The producer's options (`KafkaProducerOptions`) with their defaults. */
export const kafkaProducerOptionsSchema = z.object({
  compression: z.enum(compressions, { error: oneOf(compressions) }).default('none'),
  lingerMs: nonNegativeInt.default(0),
  maxBatchRecords: positiveInt.default(10_000),
  maxBatchBytes: positiveInt.default(1_000_000),
  deliveryTimeoutMs: positiveInt.default(120_000),
  // Undefined picks a random id when the transactional producer is created.
  transactionalId: z
    .string({ error: 'must be a non-empty string' })
    .refine((id) => id.trim() !== '', { error: 'must be a non-empty string' })
    .optional(),
  transactionTimeoutMs: positiveInt.default(15_000),
});

/** The consumer defaults (`KafkaConsumerDefaults`) with their own defaults. */
export const kafkaConsumerDefaultsSchema = z.object({
  // Undefined: a third of each member's session timeout, at most 3 000 (see `createKafkaConsumer`).
  heartbeatIntervalMs: positiveInt.optional(),
  rebalanceTimeoutMs: positiveInt.default(60_000),
  fetchMaxWaitMs: positiveInt.default(500),
  fetchMaxBytesPerPartition: positiveInt.default(1024 * 1024),
});

/**
 * The Kafka transport's options (`KafkaTransportOptions`) with their defaults: a wrong broker address or
 * SASL mechanism fails here with the option named, not later as a connection error.
 */
export const kafkaTransportOptionsSchema = z.object({
  brokers: z
    .array(
      z.string().regex(brokerPattern, { error: (issue) => `"${String(issue.input)}" is not host:port` }),
      {
        error: brokersError,
      },
    )
    .min(1, { error: brokersError }),
  clientId: z.string().default('keel'),
  tls: z.union([z.literal(true), anObject<TlsConnectionOptions>('TLS options or true')]).optional(),
  sasl: z
    .object({
      mechanism: z.enum(mechanisms, { error: oneOf(mechanisms) }),
      username: z.string({ error: credentialsError }).min(1, { error: credentialsError }),
      password: z.string({ error: credentialsError }),
    })
    .optional(),
  connectTimeoutMs: positiveInt.default(5_000),
  requestTimeoutMs: positiveInt.default(30_000),
  producer: kafkaProducerOptionsSchema.prefault({}),
  consumer: kafkaConsumerDefaultsSchema.prefault({}),
  logger: anObject<Logger>('a pino logger').optional(),
});

/** The producer settings with defaults applied. */
export type ResolvedProducerOptions = z.output<typeof kafkaProducerOptionsSchema>;

/** The consumer defaults with their own defaults applied. */
export type ResolvedConsumerDefaults = z.output<typeof kafkaConsumerDefaultsSchema>;

/** The transport's options, checked and completed once when it is created. */
export interface KafkaSettings {
  /** What every client of the adapter shares. */
  base: KafkaClientBaseOptions;
  producer: ResolvedProducerOptions;
  consumer: ResolvedConsumerDefaults;
  logger: Logger | undefined;
}

/** Parses the transport's options (OptionsError naming each broken key as `kafka.<key>`) and maps them to the client's. */
export function parseKafkaOptions(options: KafkaTransportOptions): KafkaSettings {
  const parsed = parseOptions(kafkaTransportOptionsSchema, options, 'kafka');
  const base: KafkaClientBaseOptions = {
    clientId: parsed.clientId,
    bootstrapBrokers: [...parsed.brokers],
    connectTimeout: parsed.connectTimeoutMs,
    // `timeout` bounds produce and admin operations at the broker, `requestTimeout` the socket wait.
    timeout: parsed.requestTimeoutMs,
    requestTimeout: parsed.requestTimeoutMs,
  };
  if (parsed.tls !== undefined) base.tls = parsed.tls === true ? {} : { ...parsed.tls };
  if (parsed.sasl !== undefined) {
    const { mechanism, username, password } = parsed.sasl;
    base.sasl = { mechanism, username, password };
  }
  return { base, producer: parsed.producer, consumer: parsed.consumer, logger: parsed.logger };
}
