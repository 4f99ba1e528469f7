import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** What the node's answers allow a browser to do. */
export interface SecurityHeaderOptions {
  /** Texts of the inline `<script>` elements the node serves (console theme, API reference), allowed by hash. */
  inlineScripts: readonly string[];
  /** The node serves HTTPS: browsers are told to keep to it (Strict-Transport-Security). */
  https: boolean;
  /** Origins whose pages may call the API (CORS); none or empty: no cross-origin access at all. */
  corsOrigins?: readonly string[] | undefined;
}

/** Headers a cross-origin caller may send (the API's own and the CloudEvents binary ones are `ce-*`). */
const CORS_ALLOWED_HEADERS =
  'authorization, content-type, idempotency-key, keel-audit-reason, keel-actor, last-event-id';
/** Seconds a browser may remember a preflight answer. */
const CORS_MAX_AGE_S = 600;

/**
 * The Content-Security-Policy of every answer: scripts only from the node itself (and the inline ones it
 * serves, by hash), no plugins, no framing by any site, forms and fetches to the node only. Styles may be
 * inline: the console and the API reference set them on elements, and a style cannot run code.
 */
export function contentSecurityPolicy(inlineScripts: readonly string[]): string {
  const hashes = inlineScripts.map(
    (text) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`,
  );
  return [
    "default-src 'self'",
    `script-src ${["'self'", ...hashes].join(' ')}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The inline scripts of an HTML page (`<script>` elements without `src`), as the browser hashes them. */
export function inlineScriptsOf(html: string): string[] {
  return [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)].map(
    (match) => match[1] ?? '',
  );
}

/**
 * Sets the security headers on every answer (CSP, no MIME sniffing, no framing, no referrer, HSTS over
 * HTTPS) and answers CORS only for the configured origins: by default no `Access-Control-*` header is ever
 * sent, so pages of other sites cannot read the API.
 */
export function registerSecurityHeaders(app: FastifyInstance, options: SecurityHeaderOptions): void {
  const policy = contentSecurityPolicy(options.inlineScripts);
  const origins = new Set(options.corsOrigins?.map((origin) => new URL(origin).origin) ?? []);
  app.addHook('onSend', async (request, reply) => {
    reply.header('content-security-policy', policy);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=()');
    if (options.https) reply.header('strict-transport-security', 'max-age=31536000');
    allowOrigin(request, reply, origins);
  });
  if (origins.size === 0) return;
  // A preflight carries no credentials: it is answered before authentication, and only says what is allowed.
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'OPTIONS' || request.headers['access-control-request-method'] === undefined)
      return;
    allowOrigin(request, reply, origins);
    return reply
      .code(204)
      .header('access-control-allow-methods', 'GET, POST, PUT, DELETE')
      .header('access-control-allow-headers', CORS_ALLOWED_HEADERS)
      .header('access-control-max-age', String(CORS_MAX_AGE_S))
      .send();
  });
}

function allowOrigin(request: FastifyRequest, reply: FastifyReply, origins: ReadonlySet<string>): void {
  const origin = request.headers.origin;
  if (origin === undefined || !origins.has(origin)) return;
  reply.header('access-control-allow-origin', origin);
  reply.header('vary', 'Origin');
  reply.header('access-control-expose-headers', 'retry-after, location, www-authenticate');
}
