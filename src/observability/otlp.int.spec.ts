import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otlpConfigured, startOtlpTracing } from './otlp.ts';
import { tracer } from './tracing.ts';

/** A collector's OTLP/HTTP traces endpoint, as far as receiving and keeping what was posted. */
function fakeCollector() {
  const posted: { path: string; contentType: string | undefined; body: unknown }[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      posted.push({
        path: request.url ?? '',
        contentType: request.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return { server, posted };
}

describe('OTLP export', () => {
  const collector = fakeCollector();
  let url: string;
  beforeAll(async () => {
    await new Promise<void>((resolve) => collector.server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(collector.server.address() as AddressInfo).port}/v1/traces`;
  });
  afterAll(() => new Promise<void>((resolve) => collector.server.close(() => resolve())));

  it('is on when the SDK variables name a collector', () => {
    expect(otlpConfigured({})).toBe(false);
    expect(otlpConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(otlpConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(
      true,
    );
  });

  it("sends Keel's spans to the collector as OTLP/HTTP JSON, with the service name, and flushes on shutdown", async () => {
    const tracing = startOtlpTracing({ serviceName: 'keel-test', url });
    const span = tracer.startSpan('POST /v1/events');
    const traceId = span.spanContext().traceId;
    span.end();
    await tracing.shutdown();
    const body = collector.posted.find((p) => p.path === '/v1/traces')?.body as {
      resourceSpans: {
        resource: { attributes: { key: string; value: { stringValue?: string } }[] };
        scopeSpans: { scope: { name: string }; spans: { name: string; traceId: string }[] }[];
      }[];
    };
    expect(body).toBeDefined();
    const resource = body.resourceSpans[0]!;
    expect(resource.resource.attributes).toContainEqual({
      key: 'service.name',
      value: { stringValue: 'keel-test' },
    });
    const spans = resource.scopeSpans.flatMap((s) => s.spans.map((x) => ({ scope: s.scope.name, ...x })));
    expect(spans).toContainEqual(
      expect.objectContaining({ scope: 'keel', name: 'POST /v1/events', traceId }),
    );
  });
});
