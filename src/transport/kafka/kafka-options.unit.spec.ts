import { describe, expect, it } from 'vitest';
import { OptionsError } from '../../errors/options.ts';
import { type KafkaTransportOptions, parseKafkaOptions } from './kafka-options.ts';

const clientBaseOptions = (options: KafkaTransportOptions) => parseKafkaOptions(options).base;
const resolveProducerOptions = (producer: KafkaTransportOptions['producer'] = {}) =>
  parseKafkaOptions({ brokers: ['k:1'], producer }).producer;
const resolveConsumerDefaults = (consumer: KafkaTransportOptions['consumer'] = {}) =>
  parseKafkaOptions({ brokers: ['k:1'], consumer }).consumer;

describe('Kafka connection options', () => {
  it('passes TLS options through to the client unchanged, and `tls: true` as the system CAs', () => {
    const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    const options = clientBaseOptions({
      brokers: ['kafka-1.example:9093'],
      tls: { ca, servername: 'kafka.example', rejectUnauthorized: true },
    });
    expect(options.tls).toEqual({ ca, servername: 'kafka.example', rejectUnauthorized: true });
    expect(clientBaseOptions({ brokers: ['k:9093'], tls: true }).tls).toEqual({});
    expect(clientBaseOptions({ brokers: ['k:9092'] }).tls).toBeUndefined();
  });

  it.each(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const)(
    'passes SASL %s credentials through',
    (mechanism) => {
      const options = clientBaseOptions({
        brokers: ['k:9094'],
        sasl: { mechanism, username: 'keel', password: 's3cret' },
      });
      expect(options.sasl).toEqual({ mechanism, username: 'keel', password: 's3cret' });
    },
  );

  it('maps brokers, client id and timeouts', () => {
    expect(
      clientBaseOptions({
        brokers: ['a:1', 'b:2'],
        clientId: 'svc',
        connectTimeoutMs: 1_000,
        requestTimeoutMs: 2_000,
      }),
    ).toEqual({
      clientId: 'svc',
      bootstrapBrokers: ['a:1', 'b:2'],
      connectTimeout: 1_000,
      timeout: 2_000,
      requestTimeout: 2_000,
    });
  });

  it('refuses what the brokers would refuse later, naming the option', () => {
    expect(() => clientBaseOptions({ brokers: [] })).toThrow(
      /kafka\.brokers: must list at least one host:port/,
    );
    expect(() => clientBaseOptions({ brokers: ['kafka'] })).toThrow(
      /kafka\.brokers\.0: "kafka" is not host:port/,
    );
    expect(() =>
      clientBaseOptions({
        brokers: ['k:1'],
        sasl: { mechanism: 'GSSAPI' as 'PLAIN', username: 'u', password: 'p' },
      }),
    ).toThrow(/kafka\.sasl\.mechanism: "GSSAPI" is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512/);
    expect(() =>
      clientBaseOptions({ brokers: ['k:1'], sasl: { mechanism: 'PLAIN', username: '', password: 'p' } }),
    ).toThrow(/kafka\.sasl\.username: sasl needs a username and a password/);
    expect(() => resolveProducerOptions({ compression: 'brotli' as 'gzip' })).toThrow(
      /kafka\.producer\.compression: "brotli" is not one of none, gzip, snappy, lz4, zstd/,
    );
    expect(() => resolveProducerOptions({ lingerMs: -1 })).toThrow(
      /kafka\.producer\.lingerMs: must be an integer ≥ 0, got -1/,
    );
    expect(() => resolveProducerOptions({ transactionalId: ' ' })).toThrow(
      /kafka\.producer\.transactionalId: must be a non-empty string/,
    );
    expect(() => resolveProducerOptions({ transactionTimeoutMs: 0 })).toThrow(
      /kafka\.producer\.transactionTimeoutMs: must be a positive integer, got 0/,
    );
    expect(() => resolveConsumerDefaults({ fetchMaxWaitMs: 0 })).toThrow(
      /kafka\.consumer\.fetchMaxWaitMs: must be a positive integer, got 0/,
    );
    expect(() => clientBaseOptions({ brokers: [] })).toThrow(OptionsError);
  });

  it('applies the producer and consumer defaults', () => {
    expect(resolveProducerOptions()).toEqual({
      compression: 'none',
      lingerMs: 0,
      maxBatchRecords: 10_000,
      maxBatchBytes: 1_000_000,
      deliveryTimeoutMs: 120_000,
      transactionalId: undefined,
      transactionTimeoutMs: 15_000,
    });
    expect(resolveConsumerDefaults()).toEqual({
      heartbeatIntervalMs: undefined,
      rebalanceTimeoutMs: 60_000,
      fetchMaxWaitMs: 500,
      fetchMaxBytesPerPartition: 1024 * 1024,
    });
  });
});
