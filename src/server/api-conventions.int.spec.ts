import SwaggerParser from '@apidevtools/swagger-parser';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApiRegistry, defineRoute } from './api/route.ts';
import { startTempNode, type TempNode } from './test-support/temp-node.ts';

let temp: TempNode;
beforeAll(async () => {
  temp = await startTempNode();
});
afterAll(async () => {
  await temp?.close();
});

const inject = (
  method: 'GET' | 'POST',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) =>
  temp.node.app.inject({
    method,
    url,
    headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
    payload: payload === undefined ? undefined : JSON.stringify(payload),
  });

describe('API conventions', () => {
  it('serves an OpenAPI 3.1 document that the official parser validates, with every declared operation', async () => {
    const response = await inject('GET', '/v1/openapi.json');
    expect(response.statusCode).toBe(200);
    const document = response.json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(document.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/cancel']),
    );
    // The event store, trace and workflow operations are in the document too.
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/v1/store/streams',
        '/v1/store/streams/{streamId}',
        '/v1/store/events',
        '/v1/store/projections',
        '/v1/store/projections/{name}',
        '/v1/store/projections/{name}/rebuild',
        '/v1/store/replays',
        '/v1/trace',
        '/v1/trace/{eventId}',
        '/v1/workflows/definitions',
        '/v1/workflows/instances',
        '/v1/workflows/instances/{instanceId}',
        '/v1/workflows/instances/{instanceId}/signal',
        '/v1/workflows/instances/{instanceId}/cancel',
        '/v1/workflows/instances/{instanceId}/retry',
      ]),
    );
    const getJob = document.paths['/v1/jobs/{id}']?.get as {
      parameters: { name: string; in: string; required: boolean }[];
      responses: Record<string, { content: Record<string, unknown> }>;
    };
    expect(getJob.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    expect(Object.keys(getJob.responses['404']?.content ?? {})).toEqual(['application/problem+json']);
  });

  it('describes the streamed and raw-body operations with their media types', async () => {
    const document = (await inject('GET', '/v1/openapi.json')).json() as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    const content = (path: string, method: string, status: string) => {
      const responses = (document.paths[path]?.[method]?.responses ?? {}) as Record<
        string,
        { content: object }
      >;
      return Object.keys(responses[status]?.content ?? {});
    };
    expect(content('/v1/topics/{topic}/export', 'get', '200')).toEqual(['application/x-ndjson', 'text/csv']);
    expect(content('/v1/topics/{topic}/export', 'get', '403')).toEqual(['application/problem+json']);
    expect(content('/v1/topics/{topic}/live', 'get', '200')).toEqual(['text/event-stream']);
    const importBody = document.paths['/v1/topics/{topic}/import']?.post?.requestBody as {
      content: Record<string, unknown>;
    };
    expect(Object.keys(importBody.content)).toContain('application/x-ndjson');
    expect(content('/v1/events', 'post', '409')).toEqual(['application/problem+json']);
  });

  it('serves an interactive reference page and its assets from the package, without a CDN', async () => {
    const page = await inject('GET', '/v1/docs');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('/v1/openapi.json');
    expect(page.body).not.toMatch(/https?:\/\//);
    const script = await inject('GET', '/v1/docs/assets/swagger-ui-bundle.js');
    expect(script.statusCode).toBe(200);
    expect(script.body.length).toBeGreaterThan(100_000);
    expect((await inject('GET', '/v1/docs/assets/package.json')).statusCode).toBe(404);
  });

  it('answers bad query parameters with problem+json naming each field', async () => {
    const response = await inject('GET', '/v1/jobs?limit=0&status=sleeping&color=blue');
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = response.json() as { type: string; errors: { path: string }[] };
    expect(body.type).toBe('https://keel.dev/problems/invalid-request');
    expect(body.errors.map((error) => error.path).sort()).toEqual([
      'query.color',
      'query.limit',
      'query.status',
    ]);
    expect((await inject('GET', '/v1/jobs?cursor=abc')).json()).toMatchObject({
      status: 400,
      errors: [{ path: 'query.cursor' }],
    });
  });

  it('lists jobs with cursor pagination, shows one, cancels a running one and refuses to cancel twice', async () => {
    const waiting = temp.node.jobs.start({
      kind: 'test.wait',
      run: ({ signal }) =>
        new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
    });
    const quick = temp.node.jobs.start({ kind: 'test.quick', async run() {} });
    await temp.node.jobs.settled(quick.id);

    const first = (await inject('GET', '/v1/jobs?limit=1')).json() as {
      items: { id: string }[];
      next: string;
    };
    expect(first.items.map((job) => job.id)).toEqual([quick.id]);
    const second = (await inject('GET', `/v1/jobs?limit=1&cursor=${first.next}`)).json() as {
      items: { id: string }[];
      next: string | null;
    };
    expect(second).toEqual({ items: [expect.objectContaining({ id: waiting.id })], next: null });
    expect((await inject('GET', '/v1/jobs?status=running')).json()).toMatchObject({
      items: [{ id: waiting.id }],
    });

    expect((await inject('GET', `/v1/jobs/${waiting.id}`)).json()).toMatchObject({
      kind: 'test.wait',
      status: 'running',
      progress: { done: 0, total: null },
      endedAt: null,
    });
    const cancel = await inject('POST', `/v1/jobs/${waiting.id}/cancel`, undefined, { 'keel-actor': 'ada' });
    expect(cancel.statusCode).toBe(202);
    expect(await temp.node.jobs.settled(waiting.id)).toMatchObject({
      status: 'cancelled',
      cancelledBy: 'ada',
    });
    const again = await inject('POST', `/v1/jobs/${waiting.id}/cancel`);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ errors: [{ path: 'params.id' }] });
    const missing = await inject('GET', '/v1/jobs/no-such-job');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({
      type: 'https://keel.dev/problems/not-found',
      errors: [{ path: 'params.id' }],
    });
  });

  it('checks answers against their schema when asked, so a document that lies fails the tests', async () => {
    const app = Fastify();
    const api = createApiRegistry(app, { checkAnswers: true });
    api.add(
      defineRoute({
        method: 'GET',
        url: '/v1/liar',
        operationId: 'liar',
        summary: 'answers a string where a number is declared',
        tag: 'test',
        answer: z.object({ count: z.int() }),
        handler: async () => ({ count: 'three' }) as never,
      }),
    );
    const response = await app.inject({ method: 'GET', url: '/v1/liar' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toMatchObject({
      message: expect.stringContaining('answer of liar breaks its schema: count'),
    });
    await app.close();
  });

  it('describes the hand-written routes too: events, catalog, health and metrics', async () => {
    const document = (await inject('GET', '/v1/openapi.json')).json() as {
      paths: Record<string, Record<string, { requestBody?: { content: object } }>>;
    };
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/v1/events',
        '/v1/catalog',
        '/v1/catalog/schemas',
        '/healthz',
        '/readyz',
        '/metrics',
      ]),
    );
    expect(Object.keys(document.paths['/v1/events']?.post?.requestBody?.content ?? {})).toContain(
      'application/cloudevents-batch+json',
    );
    expect((await inject('GET', '/v1/catalog')).json()).toMatchObject({ events: expect.any(Array) });
  });
});
