import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Paths the console never answers: the API, its reference page, health and metrics keep their own 404s. */
const NOT_CONSOLE = /^\/(v1|healthz|readyz|metrics)(\/|$|\?)/;

/** Answers a request the routes did not match with the console's page, or returns undefined when it is not one. */
export type ConsoleFallback = (request: FastifyRequest, reply: FastifyReply) => FastifyReply | undefined;

/**
 * Folder of the built console (`dist/console` under the package root), found from this file whether it
 * runs from `src/` (tests, type stripping) or from `dist/src/` (the built package).
 */
export function defaultConsoleDir(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(folder, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'keel') break;
    const parent = dirname(folder);
    if (parent === folder) throw new Error(`no keel package.json above ${fileURLToPath(import.meta.url)}`);
    folder = parent;
  }
  return join(folder, 'dist', 'console');
}

/**
 * Serves the built console from `dir` at `/`: its files as they are (hashed assets cached for a year,
 * `index.html` revalidated), and `index.html` for any other GET that asks for HTML outside the API, so
 * a shared link to a console page (`/topics/orders/messages?...`) opens it. Without a build, `/` says how
 * to make one.
 */
export function registerConsole(app: FastifyInstance, dir: string): ConsoleFallback {
  const built = existsSync(join(dir, 'index.html'));
  if (!built) {
    return (request, reply) =>
      isConsolePage(request)
        ? reply
            .code(404)
            .type('text/plain; charset=utf-8')
            .send(`The console is not built: run npm run build (it writes ${dir}).\n`)
        : undefined;
  }
  app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    // Only the files the build wrote, each as its own route: nothing can shadow the API.
    wildcard: false,
    cacheControl: false,
    setHeaders(reply, path) {
      const hashed = path.startsWith(join(dir, 'assets'));
      reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  return (request, reply) => (isConsolePage(request) ? reply.sendFile('index.html') : undefined);
}

/** The console page's HTML, or undefined when it is not built. */
export function consolePageHtml(dir: string): string | undefined {
  const page = join(dir, 'index.html');
  return existsSync(page) ? readFileSync(page, 'utf8') : undefined;
}

function isConsolePage(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  if (NOT_CONSOLE.test(request.url)) return false;
  return (request.headers.accept ?? '').includes('text/html');
}
