import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { catalog } from '../../examples/catalog.ts';
import { ConfigError } from '../config/config-error.ts';
import { configSchema, type KeelConfigInput } from '../config/config-schema.ts';
import { createNode } from './node.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'keel-node-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const nodeWith = (config: KeelConfigInput = {}) =>
  createNode({
    config: configSchema.parse({ port: 0, sync: 'normal', ...config, dataDir: join(dir, 'data') }),
    catalog,
    logger: pino({ level: 'silent' }),
  });

describe('createNode', () => {
  it('creates the catalog topics on the SQLite file in the data folder and listens on a real port', async () => {
    await using node = nodeWith();
    expect(node.dataFile).toBe(join(dir, 'data', 'keel.db'));
    const url = await node.start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
    expect(node.url).toBe(url);
    expect(await node.transport.describeTopic('healthcare.patients.events')).toMatchObject({
      partitions: 12,
    });
    const response = await fetch(`${url}/healthz`);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('rejects the kafka transport without brokers, naming the variable to set', () => {
    const attempt = () => nodeWith({ transport: 'kafka' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(
      'KEEL_KAFKA_BROKERS: required when the transport is kafka: a comma-separated list of host:port',
    );
  });

  it.each([
    [
      { store: 'postgres' },
      'KEEL_POSTGRES_URL: required when the store is postgres: a postgres:// connection string',
    ],
  ] as const)('rejects %o: an incomplete store setting', (config, message) => {
    const attempt = () => nodeWith(config);
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(message);
  });

  it('is not ready before it starts, nor while it shuts down', async () => {
    const node = nodeWith();
    const before = await node.app.inject({ method: 'GET', url: '/readyz' });
    expect(before.statusCode).toBe(503);
    expect(before.json()).toMatchObject({ type: 'https://keel.dev/problems/not-ready', detail: 'starting' });
    await node.start();
    expect((await node.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const closing = node.close();
    const during = await node.app.inject({ method: 'GET', url: '/readyz' });
    await closing;
    expect(during.statusCode).toBe(503);
  });

  it('is not ready when the transport cannot be read, saying why', async () => {
    await using node = nodeWith();
    await node.start();
    await node.transport.close();
    const response = await node.app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((response.json() as { detail: string }).detail).toMatch(/^transport embedded is not usable: /);
    expect((await node.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const publish = await node.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/cloudevents+json' },
      payload: JSON.stringify({
        specversion: '1.0',
        id: 'late-1',
        source: 'urn:keel:test',
        type: 'healthcare.patient.created',
        data: { patientId: 'p-1', firstName: 'Ada', lastName: 'Lovelace', dateOfBirth: '1815-12-10' },
      }),
    });
    expect(publish.statusCode).toBe(503);
    expect(publish.json()).toMatchObject({ type: 'https://keel.dev/problems/unavailable', status: 503 });
  });

  it('closes once however often it is asked, and cannot start again', async () => {
    const node = nodeWith();
    await node.start();
    await Promise.all([node.close(), node.close()]);
    await node.close();
    await expect(node.start()).rejects.toThrow('node cannot start: it is closed');
  });
});
