import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { KafkaTransportOptions } from '../transport/kafka/kafka-options.ts';
import { ConfigError, type ConfigIssue } from './config-error.ts';
import { CONFIG_KEYS, type ConfigKey, type KeelConfig } from './config-schema.ts';
import { type ConfigSources, describeKey } from './load-config.ts';

/** How to reach Kafka, from the configuration (brokers, TLS, SASL); the caller adds a logger and tuning. */
export type KafkaConnection = Pick<KafkaTransportOptions, 'brokers' | 'tls' | 'sasl'>;

/**
 * The Kafka connection the configuration describes. Throws ConfigError naming each key that is missing or
 * wrong: no brokers, an unreadable CA file, SASL credentials without a mechanism or a mechanism without them.
 */
export function kafkaConnection(
  config: KeelConfig,
  sources?: ConfigSources,
  /** Who needs the brokers, for the message when they are missing. */
  requiredBy = 'when the transport is kafka',
  cwd = process.cwd(),
): KafkaConnection {
  // A key that was never set is named by its environment variable, where operators set it.
  const name = (key: ConfigKey): string =>
    sources === undefined || sources[key].kind === 'default'
      ? CONFIG_KEYS[key].env
      : describeKey(key, sources[key], cwd);
  const issues: ConfigIssue[] = [];
  const brokers = config.kafkaBrokers ?? [];
  if (brokers.length === 0) {
    issues.push({
      key: name('kafkaBrokers'),
      message: `required ${requiredBy}: a comma-separated list of host:port`,
    });
  }
  const connection: KafkaConnection = { brokers };
  if (config.kafkaTlsCaFile !== undefined) {
    const file = resolve(cwd, config.kafkaTlsCaFile);
    try {
      connection.tls = { ca: readFileSync(file, 'utf8') };
    } catch (error) {
      issues.push({
        key: name('kafkaTlsCaFile'),
        message: `cannot read the CA file ${file}: ${(error as Error).message.split('\n')[0]}`,
      });
    }
  } else if (config.kafkaTls === true) {
    connection.tls = true;
  }
  const { kafkaSaslMechanism: mechanism, kafkaSaslUsername: username, kafkaSaslPassword: password } = config;
  if (mechanism !== undefined) {
    if (username === undefined)
      issues.push({ key: name('kafkaSaslUsername'), message: `required by SASL ${mechanism}` });
    if (password === undefined)
      issues.push({ key: name('kafkaSaslPassword'), message: `required by SASL ${mechanism}` });
    if (username !== undefined && password !== undefined) connection.sasl = { mechanism, username, password };
  } else if (username !== undefined || password !== undefined) {
    issues.push({
      key: name('kafkaSaslMechanism'),
      message: 'required with a SASL username or password: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512',
    });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return connection;
}
