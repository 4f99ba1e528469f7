import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { SASLOptions } from '@platformatic/kafka';
import type { Logger } from 'pino';

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
const mechanisms: readonly KafkaSaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];

/**
 * Maps the adapter's connection options to the client's, checking them first: a wrong broker address or
 * SASL mechanism fails here with the option named, not later as a connection error.
 */
export function clientBaseOptions(options: KafkaTransportOptions): KafkaClientBaseOptions {
  if (!Array.isArray(options.brokers) || options.brokers.length === 0) {
    throw new TypeError('kafka transport: brokers must list at least one host:port');
  }
  for (const broker of options.brokers) {
    if (typeof broker !== 'string' || !brokerPattern.test(broker)) {
      throw new TypeError(`kafka transport: broker "${broker}" is not host:port`);
    }
  }
  const requestTimeout = positive('requestTimeoutMs', options.requestTimeoutMs ?? 30_000);
  const base: KafkaClientBaseOptions = {
    clientId: options.clientId ?? 'keel',
    bootstrapBrokers: [...options.brokers],
    connectTimeout: positive('connectTimeoutMs', options.connectTimeoutMs ?? 5_000),
    // `timeout` bounds produce and admin operations at the broker, `requestTimeout` the socket wait.
    timeout: requestTimeout,
    requestTimeout,
  };
  if (options.tls !== undefined) base.tls = options.tls === true ? {} : { ...options.tls };
  if (options.sasl !== undefined) {
    const { mechanism, username, password } = options.sasl;
    if (!mechanisms.includes(mechanism)) {
      throw new TypeError(
        `kafka transport: sasl.mechanism "${mechanism}" is not one of ${mechanisms.join(', ')}`,
      );
    }
    if (typeof username !== 'string' || username.length === 0 || typeof password !== 'string') {
      throw new TypeError('kafka transport: sasl needs a username and a password');
    }
    base.sasl = { mechanism, username, password };
  }
  return base;
}

/** The producer settings with defaults applied. */
export interface ResolvedProducerOptions {
  compression: KafkaCompression;
  lingerMs: number;
  maxBatchRecords: number;
  maxBatchBytes: number;
  deliveryTimeoutMs: number;
  /** Undefined picks a random id when the transactional producer is created. */
  transactionalId: string | undefined;
  transactionTimeoutMs: number;
}

const compressions: readonly KafkaCompression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** Applies the producer defaults and checks the values. */
export function resolveProducerOptions(options: KafkaProducerOptions = {}): ResolvedProducerOptions {
  const compression = options.compression ?? 'none';
  if (!compressions.includes(compression)) {
    throw new TypeError(
      `kafka transport: producer.compression "${compression}" is not one of ${compressions.join(', ')}`,
    );
  }
  const { transactionalId } = options;
  if (
    transactionalId !== undefined &&
    (typeof transactionalId !== 'string' || transactionalId.trim() === '')
  ) {
    throw new TypeError('kafka transport: producer.transactionalId must be a non-empty string');
  }
  const lingerMs = options.lingerMs ?? 0;
  if (!Number.isInteger(lingerMs) || lingerMs < 0) {
    throw new TypeError(`kafka transport: producer.lingerMs must be an integer ≥ 0, got ${lingerMs}`);
  }
  return {
    compression,
    lingerMs,
    maxBatchRecords: positive('producer.maxBatchRecords', options.maxBatchRecords ?? 10_000),
    maxBatchBytes: positive('producer.maxBatchBytes', options.maxBatchBytes ?? 1_000_000),
    deliveryTimeoutMs: positive('producer.deliveryTimeoutMs', options.deliveryTimeoutMs ?? 120_000),
    transactionalId,
    transactionTimeoutMs: positive('producer.transactionTimeoutMs', options.transactionTimeoutMs ?? 15_000),
  };
}

/** The consumer defaults with their own defaults applied. */
export interface ResolvedConsumerDefaults {
  heartbeatIntervalMs: number | undefined;
  rebalanceTimeoutMs: number;
  fetchMaxWaitMs: number;
  fetchMaxBytesPerPartition: number;
}

/** Applies the consumer defaults and checks the values. */
export function resolveConsumerDefaults(options: KafkaConsumerDefaults = {}): ResolvedConsumerDefaults {
  return {
    heartbeatIntervalMs:
      options.heartbeatIntervalMs === undefined
        ? undefined
        : positive('consumer.heartbeatIntervalMs', options.heartbeatIntervalMs),
    rebalanceTimeoutMs: positive('consumer.rebalanceTimeoutMs', options.rebalanceTimeoutMs ?? 60_000),
    fetchMaxWaitMs: positive('consumer.fetchMaxWaitMs', options.fetchMaxWaitMs ?? 500),
    fetchMaxBytesPerPartition: positive(
      'consumer.fetchMaxBytesPerPartition',
      options.fetchMaxBytesPerPartition ?? 1024 * 1024,
    ),
  };
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new TypeError(`kafka transport: ${name} must be a positive integer, got ${value}`);
  }
  return value;
}
