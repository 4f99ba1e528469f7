import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeelNode } from '../node.ts';
import { startTempNode, type TempNode } from '../test-support/temp-node.ts';
import { defaultConsoleDir, registerConsole } from './serve-console.ts';

const html = { accept: 'text/html,application/xhtml+xml' };

describe('the node serves the console', () => {
  let temp: TempNode;
  let node: KeelNode;
  let consoleDir: string;

  beforeAll(async () => {
    consoleDir = mkdtempSync(join(tmpdir(), 'keel-console-files-'));
    mkdirSync(join(consoleDir, 'assets'));
    writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><title>Keel console</title>');
    writeFileSync(join(consoleDir, 'assets', 'app-1234.js'), 'console.log(1)');
    temp = await startTempNode();
    node = temp.node;
  });
  afterAll(async () => {
    await temp.close();
    rmSync(consoleDir, { recursive: true, force: true });
  });

  const app = async () => {
    const { default: Fastify } = await import('fastify');
    const server = Fastify();
    const fallback = registerConsole(server, consoleDir);
    server.get('/v1/topics', async () => ({ items: [] }));
    server.setNotFoundHandler(
      (request, reply) => fallback(request, reply) ?? reply.code(404).send({ problem: true }),
    );
    await server.ready();
    return server;
  };

  it('answers / and a console page with index.html, and hashed assets with a year of caching', async () => {
    const server = await app();
    const root = await server.inject({ url: '/', headers: html });
    expect(root.statusCode).toBe(200);
    expect(root.body).toContain('Keel console');
    expect(root.headers['cache-control']).toBe('no-cache');
    const page = await server.inject({ url: '/topics/orders?type=a&where=data.x%3E1', headers: html });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Keel console');
    const asset = await server.inject({ url: '/assets/app-1234.js' });
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.body).toBe('console.log(1)');
    await server.close();
  });

  it('never shadows the API: /v1, health and metrics keep their answers and 404s', async () => {
    const server = await app();
    expect((await server.inject({ url: '/v1/topics', headers: html })).json()).toEqual({ items: [] });
    for (const url of ['/v1/nope', '/healthz/x', '/metrics/x', '/readyz?x=1']) {
      const answer = await server.inject({ url, headers: html });
      expect([url, answer.statusCode, answer.json()]).toEqual([url, 404, { problem: true }]);
    }
    // A client that asks for JSON gets the 404, not a page.
    expect(
      (await server.inject({ url: '/topics/x', headers: { accept: 'application/json' } })).statusCode,
    ).toBe(404);
    expect((await server.inject({ method: 'POST', url: '/topics/x', headers: html })).statusCode).toBe(404);
    await server.close();
  });

  it('on the node: API 404s stay problem+json whatever the client accepts', async () => {
    const answer = await node.app.inject({ url: '/v1/nothing', headers: html });
    expect(answer.statusCode).toBe(404);
    expect(answer.headers['content-type']).toContain('application/problem+json');
  });

  it('without a build, a console page says how to make one', async () => {
    const { default: Fastify } = await import('fastify');
    const server = Fastify();
    const missing = join(consoleDir, 'not-built');
    const fallback = registerConsole(server, missing);
    server.setNotFoundHandler(
      (request, reply) => fallback(request, reply) ?? reply.code(404).send('api 404'),
    );
    const answer = await server.inject({ url: '/', headers: html });
    expect(answer.statusCode).toBe(404);
    expect(answer.body).toBe(`The console is not built: run npm run build (it writes ${missing}).\n`);
    expect((await server.inject({ url: '/v1/x', headers: html })).body).toBe('api 404');
    await server.close();
  });

  it("finds the package's dist/console from its source folder", () => {
    expect(defaultConsoleDir()).toBe(join(process.cwd(), 'dist', 'console'));
  });
});
