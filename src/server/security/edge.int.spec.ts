import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTempNode, type TempNode } from '../test-support/temp-node.ts';

const TOPIC = 'healthcare.patients.events';
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const envelope = (data: string, id = 'deep-1') =>
  `{"specversion":"1.0","id":"${id}","source":"urn:t","type":"healthcare.patient.created","data":${data}}`;

/** Sends raw bytes on a fresh connection and resolves with everything the node answers before closing. */
function raw(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString();
    });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(5_000, () => {
      socket.destroy();
      resolve(answer);
    });
  });
}

describe("the node's edge", () => {
  let temp: TempNode;
  beforeAll(async () => {
    temp = await startTempNode();
  });
  afterAll(() => temp?.close());

  const post = (path: string, body: string, headers: Record<string, string>) =>
    fetch(`${temp.node.url}${path}`, { method: 'POST', body, headers });

  it('refuses deeply nested JSON with a 400 naming where, in every mode, and writes nothing', async () => {
    const before = await temp.totalRecords();
    const deep = nested(10_000);
    const answers = [
      await post('/v1/events', envelope(deep), { 'content-type': 'application/cloudevents+json' }),
      await post('/v1/events', `[${envelope('{}', 'ok-1')},${envelope(deep, 'deep-2')}]`, {
        'content-type': 'application/cloudevents-batch+json',
      }),
      await post('/v1/events', deep, {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': 'deep-3',
        'ce-source': 'urn:t',
        'ce-type': 'healthcare.patient.created',
      }),
      await post(`/v1/topics/${TOPIC}/import`, `${envelope(deep, 'deep-4')}\n`, {
        'content-type': 'application/x-ndjson',
      }),
      await post(`/v1/topics/${TOPIC}/search`, `{"where":${deep}}`, { 'content-type': 'application/json' }),
    ];
    const paths = [];
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      const body = (await answer.json()) as { type: string; errors: { path: string }[] };
      paths.push(`${body.type.replace('https://keel.dev/problems/', '')} ${body.errors[0]?.path}`);
    }
    expect(paths).toEqual([
      'json-too-deep data',
      'json-too-deep [1].data',
      'json-too-deep data',
      // An import checks each line against the catalog first: the deep value is not a patient.
      'invalid-request line[1].data.patientId',
      'json-too-deep body',
    ]);
    expect(await temp.totalRecords()).toBe(before);
  });

  it('refuses a repeated ce-id (or any ce- header) instead of merging it, and writes nothing', async () => {
    const before = await temp.totalRecords();
    const body = '{"patientId":"p","firstName":"A","lastName":"L","dateOfBirth":"1815-12-10"}';
    const answer = await raw(
      temp.node.url as string,
      'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nce-specversion: 1.0\r\n' +
        'ce-id: one\r\nce-id: two\r\nce-source: urn:t\r\nce-type: healthcare.patient.created\r\n' +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).toContain('application/problem+json');
    expect(answer).toContain('the header ce-id is given more than once');
    expect(await temp.totalRecords()).toBe(before);
  });

  it('answers errors raised before any route (oversize headers, broken framing, bad header names) as problems', async () => {
    const url = temp.node.url as string;
    const cases = [
      [`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
      ['POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
      ['GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n', 400],
      ['NOT A REQUEST\r\n\r\n', 400],
    ] as const;
    for (const [bytes, status] of cases) {
      const answer = await raw(url, bytes);
      expect(answer, bytes.slice(0, 40)).toMatch(new RegExp(`^HTTP/1\\.1 ${status}`));
      expect(answer).toContain('content-type: application/problem+json');
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as {
        status: number;
        type: string;
      };
      expect(body.status).toBe(status);
      expect(body.type).toMatch(/^https:\/\/keel\.dev\/problems\//);
    }
    // A bad percent-encoding in the path is fastify's own refusal: a problem too.
    const badUrl = await fetch(`${url}/v1/topics/%E0%A4%A`);
    expect(badUrl.status).toBe(400);
    expect(badUrl.headers.get('content-type')).toContain('application/problem+json');
  });

  it('sends security headers and no CORS headers, even to another origin', async () => {
    for (const path of ['/healthz', '/v1/catalog', '/']) {
      const answer = await fetch(`${temp.node.url}${path}`, { headers: { origin: 'https://evil.example' } });
      expect(answer.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(answer.headers.get('x-frame-options')).toBe('DENY');
      expect(answer.headers.get('referrer-policy')).toBe('no-referrer');
      expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    }
    const preflight = await fetch(`${temp.node.url}/v1/events`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });
});
