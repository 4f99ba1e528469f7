import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load-config.ts';
import { AuthenticationError } from '../../security/errors.ts';
import { createAuthenticator } from '../../security/identity/authenticator.ts';
import { startTempNode, type TempNode } from '../test-support/temp-node.ts';

const TOPIC = 'healthcare.patients.events';
const runs = { numRuns: 150 };

/** A CloudEvent-ish object: the right attributes sometimes, random values and extra members always possible. */
const envelope = fc.record(
  {
    specversion: fc.oneof(fc.constant('1.0'), fc.string()),
    id: fc.oneof(fc.uuid(), fc.string(), fc.integer()),
    source: fc.oneof(fc.constant('urn:fuzz'), fc.string()),
    type: fc.oneof(fc.constantFrom('healthcare.patient.created', 'healthcare.patient.updated'), fc.string()),
    tenantid: fc.string(),
    data: fc.oneof(
      fc.record({
        patientId: fc.string(),
        firstName: fc.string(),
        lastName: fc.string(),
        dateOfBirth: fc.string(),
      }),
      fc.jsonValue(),
    ),
  },
  { requiredKeys: [] },
);

describe('outward parsers under property-based fuzzing: no crash, no 5xx, no partial write', () => {
  let temp: TempNode;
  beforeAll(async () => {
    temp = await startTempNode({ config: { auth: 'required' } });
  });
  afterAll(() => temp?.close());

  const send = (
    url: string,
    payload: string,
    headers: Record<string, string>,
    method: 'POST' | 'GET' = 'POST',
  ) => temp.node.app.inject({ method, url, payload: method === 'POST' ? payload : undefined, headers });

  it('CloudEvents structured, batch and binary: 201 with everything written, or a 4xx with nothing', async () => {
    const { key } = temp.node.keys.create({ name: 'fuzz', roles: ['producer'] });
    const auth = { authorization: `Bearer ${key}` };
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          envelope.map((e) => ({
            body: JSON.stringify(e),
            headers: { 'content-type': 'application/cloudevents+json' },
            count: 1,
          })),
          fc.array(envelope, { maxLength: 5 }).map((list) => ({
            body: JSON.stringify(list),
            headers: { 'content-type': 'application/cloudevents-batch+json' },
            count: list.length,
          })),
          fc.tuple(envelope, fc.jsonValue()).map(([e, data]) => ({
            body: JSON.stringify(data),
            headers: Object.fromEntries(
              Object.entries(e)
                .filter(([name]) => name !== 'data')
                .map(([name, value]) => [`ce-${name}`, String(value).replace(/[^\x20-\x7e]/g, '')]),
            ) as Record<string, string>,
            count: 1,
          })),
          fc
            .string()
            .map((body) => ({ body, headers: { 'content-type': 'application/cloudevents+json' }, count: 1 })),
        ),
        async ({ body, headers, count }) => {
          const before = await temp.totalRecords();
          const answer = await send(
            '/v1/events',
            body,
            Object.assign({ 'content-type': 'application/json' }, headers, auth),
          );
          const written = (await temp.totalRecords()) - before;
          expect(answer.statusCode).toBeLessThan(500);
          if (answer.statusCode === 201) expect(written).toBe(BigInt(count));
          else expect(written).toBe(0n);
        },
      ),
      runs,
    );
  });

  it('message filters (query conditions and CEL): never a 5xx', async () => {
    const { key } = temp.node.keys.create({ name: 'fuzz-reader', roles: ['consumer'] });
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.string(), fc.string(), async (where, cel, type) => {
        const query = new URLSearchParams({ where, cel, type }).toString();
        const answer = await send(
          `/v1/topics/${TOPIC}/messages?${query}`,
          '',
          { authorization: `Bearer ${key}` },
          'GET',
        );
        expect(answer.statusCode).toBeLessThan(500);
      }),
      runs,
    );
  });

  it('credentials: any Authorization header is an identity or an AuthenticationError, nothing else', async () => {
    const authenticator = createAuthenticator({ keys: temp.node.keys });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `Bearer ${s}`),
          fc.string().map((s) => `Bearer keel_${s}`),
        ),
        async (header) => {
          try {
            await authenticator.authenticate(header);
          } catch (error) {
            expect(error).toBeInstanceOf(AuthenticationError);
          }
        },
      ),
      runs,
    );
  });

  it('configuration from the environment: a configuration or a ConfigError naming the variable', async () => {
    const keys = [
      'KEEL_PORT',
      'KEEL_AUTH',
      'KEEL_HOST',
      'KEEL_OIDC_ISSUER',
      'KEEL_MAX_EVENT_BYTES',
      'KEEL_SYNC',
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...keys), fc.string(), async (name, value) => {
        try {
          await loadConfig({ cwd: temp.dir, env: { [name]: value } });
        } catch (error) {
          expect((error as { code?: string }).code).toBe('KEEL_CONFIG');
          expect((error as Error).message).toContain(name);
        }
      }),
      runs,
    );
  });
});
