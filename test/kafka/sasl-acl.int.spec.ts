import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AclOperations,
  AclPermissionTypes,
  Admin,
  ResourcePatternTypes,
  ResourceTypes,
} from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { securityInfo } from '../../scripts/kafka.mjs';
import { runCli } from '../../src/cli/test-support/run-cli.ts';
import { outgoing, pollUntil, text } from '../../src/transport/contract/contract-helpers.ts';
import { KafkaOperationError, type KafkaTransport } from '../../src/transport/kafka/index.ts';
import { kafkaTestHarness, testBrokers } from '../../src/transport/kafka/test-support/kafka-test-cluster.ts';
import type { Consumer } from '../../src/transport/transport.ts';
import { writeTestCatalog } from './catalog-module.ts';

// The local cluster's SASL_SSL listeners (scripts/kafka.mjs): a throwaway CA, SCRAM-SHA-512 users, ACLs enforced.
const security = securityInfo();
const saslBrokers = security.bootstrapServers.split(',');
type User = keyof typeof security.users;

describe('Kafka over TLS with SCRAM-SHA-512, and ACLs from topic definitions', () => {
  const harness = kafkaTestHarness('sasl');
  const topic = harness.topic('patients');
  const group = harness.group('billing');
  const consumers: Consumer[] = [];
  let dir: string;

  /** A Keel transport on the SASL_SSL listeners, authenticated as `user`. */
  const asUser = (user: User, password = security.users[user]): KafkaTransport =>
    harness.open({
      brokers: saslBrokers,
      clientId: `keel-test-${user}`,
      tls: { ca: readCa() },
      sasl: { mechanism: 'SCRAM-SHA-512', username: user, password },
      requestTimeoutMs: 10_000,
    });

  /** `keel topics <mode>` configured only through the environment, as an operator would: TLS, SCRAM as keel-admin. */
  const topics = (mode: 'plan' | 'apply', catalog: string) =>
    runCli(['topics', mode, '--catalog', catalog], {
      env: {
        KEEL_KAFKA_BROKERS: security.bootstrapServers,
        KEEL_KAFKA_TLS_CA_FILE: security.caFile,
        KEEL_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
        KEEL_KAFKA_SASL_USERNAME: 'keel-admin',
        KEEL_KAFKA_SASL_PASSWORD: security.users['keel-admin'],
        KEEL_LOG_LEVEL: 'silent',
      },
      cwd: dir,
      timeoutMs: 60_000,
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keel-sasl-'));
    // Created over PLAINTEXT (the unrestricted loopback listener), as the rest of the suite does.
    await harness.open().ensureTopics([{ name: topic, partitions: 1 }]);
  });
  afterAll(async () => {
    await Promise.allSettled(consumers.splice(0).map((c) => c.close()));
    await deleteAclsOf(topic, group);
    await harness.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a super user publishes and consumes through Keel over TLS + SCRAM', async () => {
    const admin = asUser('keel-admin');
    const appended = await admin.append([{ topic, partition: 0, records: [outgoing('p-1', 'over tls')] }]);
    expect(appended).toEqual([[0n]]);
    const consumer = admin.consumer({ group: harness.group('admin'), topics: [topic] });
    consumers.push(consumer);
    const received = await pollUntil(consumer, 'the record', (r) => r.length >= 1, 20_000);
    expect(received.map(text)).toEqual(['over tls']);
  });

  it('a wrong password is refused by the broker', async () => {
    const intruder = asUser('keel-app', 'not-the-password');
    const error = await intruder.append([{ topic, partition: 0, records: [outgoing('p-1', 'x')] }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KafkaOperationError);
    expect((error as Error).message).toContain('(SASL_AUTHENTICATION_FAILED)');
    expect(describeError(error)).toContain('PLT_KFK_AUTHENTICATION SASL authentication failed');
  });

  it('a principal without an ACL can neither publish nor consume; after `keel topics apply` grants it, it does both', async () => {
    const app = asUser('keel-app');
    const refused = await app.append([{ topic, partition: 0, records: [outgoing('p-2', 'no acl')] }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(KafkaOperationError);
    expect((refused as Error).message).toContain('Topic authorization failed. (TOPIC_AUTHORIZATION_FAILED)');
    const unauthorized = app.consumer({ group, topics: [topic] });
    const pollError = await pollUntil(unauthorized, 'a record', (r) => r.length >= 1, 15_000).then(
      () => undefined,
      (e: unknown) => e,
    );
    await unauthorized.close().catch(() => undefined);
    expect(pollError).toBeInstanceOf(KafkaOperationError);
    expect((pollError as Error).message).toMatch(
      /^kafka join group failed: .*\(TOPIC_AUTHORIZATION_FAILED\)$/,
    );

    const catalog = writeTestCatalog(dir, 'granted.ts', [
      {
        name: topic,
        partitions: 1,
        access: { produce: ['User:keel-app'], consume: [{ principal: 'User:keel-app', group }] },
      },
    ]);
    const planned = await topics('plan', catalog);
    expect(planned.status, planned.stderr).toBe(0);
    expect(planned.stdout).toContain(`+ allow User:keel-app WRITE on topic ${topic}\n`);
    expect(planned.stdout).toContain(`+ allow User:keel-app READ on group ${group}\n`);
    // DESCRIBE is granted once for both roles.
    expect(planned.stdout.match(/\+ allow User:keel-app DESCRIBE/g)).toHaveLength(1);
    expect(await aclCount(topic)).toBe(0);

    const applied = await topics('apply', catalog);
    expect(applied.status, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/applied 4 change\(s\)\n$/);
    const again = await topics('plan', catalog);
    expect(again.stdout).toContain('= 4 ACL(s) up to date\n');

    // ACLs reach every broker through the metadata log: allow a moment for them to arrive.
    const granted = asUser('keel-app');
    await eventually(() => granted.append([{ topic, partition: 0, records: [outgoing('p-2', 'granted')] }]));
    const consumer = granted.consumer({ group, topics: [topic] });
    consumers.push(consumer);
    const received = await pollUntil(consumer, 'both records', (r) => r.length >= 2, 20_000);
    expect(received.map(text)).toEqual(['over tls', 'granted']);

    // keel-other has no grant: still refused.
    const other = asUser('keel-other');
    const stillRefused = await other.append([{ topic, partition: 0, records: [outgoing('p-3', 'x')] }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((stillRefused as Error).message).toContain('(TOPIC_AUTHORIZATION_FAILED)');

    // Taking the grant out of the definition deletes the topic's ACLs.
    const revokedCatalog = writeTestCatalog(dir, 'revoked.ts', [{ name: topic, partitions: 1, access: {} }]);
    const revoked = await topics('apply', revokedCatalog);
    expect(revoked.status, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`- allow User:keel-app WRITE on topic ${topic}\n`);
    expect(await aclCount(topic)).toBe(0);
  });
});

function readCa(): string {
  return readFileSync(security.caFile, 'utf8');
}

/** The error and its causes as one string: the client wraps broker errors in MultipleErrors. */
function describeError(error: unknown): string {
  if (error === undefined) return 'no error';
  const parts: string[] = [];
  const walk = (e: unknown, depth: number) => {
    if (depth > 5 || e === null || typeof e !== 'object') return;
    const x = e as { message?: string; code?: string; apiId?: string; errors?: unknown[]; cause?: unknown };
    parts.push([x.code, x.apiId, x.message].filter(Boolean).join(' '));
    for (const inner of x.errors ?? []) walk(inner, depth + 1);
    walk(x.cause, depth + 1);
  };
  walk(error, 0);
  return parts.join(' | ');
}

async function eventually<T>(attempt: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

const anyAcl = (resourceType: number, resourceName: string) => ({
  resourceType: resourceType as 2,
  resourceName,
  resourcePatternType: ResourcePatternTypes.LITERAL,
  principal: null,
  host: null,
  operation: AclOperations.ANY,
  permissionType: AclPermissionTypes.ANY,
});

function plainAdmin(): Admin {
  return new Admin({ clientId: 'keel-test-acls', bootstrapBrokers: testBrokers() });
}

async function aclCount(topic: string): Promise<number> {
  const admin = plainAdmin();
  try {
    const resources = await admin.describeAcls({ filter: anyAcl(ResourceTypes.TOPIC, topic) });
    return resources.reduce((n, r) => n + r.acls.length, 0);
  } finally {
    await admin.close();
  }
}

async function deleteAclsOf(topic: string, group: string): Promise<void> {
  const admin = plainAdmin();
  try {
    await admin.deleteAcls({
      filters: [anyAcl(ResourceTypes.TOPIC, topic), anyAcl(ResourceTypes.GROUP, group) as never],
    });
  } finally {
    await admin.close();
  }
}
