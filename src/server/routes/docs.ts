import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type ApiInfo, buildOpenApiDocument } from '../api/openapi.ts';
import type { ApiRegistry } from '../api/route.ts';

/** Files of the reference page, served from the `swagger-ui-dist` package (the node needs no internet). */
const ASSETS = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
} as const;

/**
 * Registers `GET /v1/openapi.json` (the OpenAPI 3.1 document of every declared route) and `GET /v1/docs`
 * (an interactive reference page rendered by Swagger UI). The document is built on first request, after
 * every route is registered.
 */
export function registerDocsRoutes(app: FastifyInstance, api: ApiRegistry, info: ApiInfo): void {
  let document: Record<string, unknown> | undefined;
  app.get('/v1/openapi.json', async () => {
    document ??= buildOpenApiDocument(api.routes(), info);
    return document;
  });

  const assetsDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const assets = new Map<string, Buffer>();
  app.get('/v1/docs', async (_request, reply) => reply.type('text/html; charset=utf-8').send(docsPage(info)));
  app.get<{ Params: { file: string } }>('/v1/docs/assets/:file', async (request, reply) => {
    const file = request.params.file as keyof typeof ASSETS;
    if (!(file in ASSETS)) return reply.callNotFound();
    let bytes = assets.get(file);
    if (bytes === undefined) {
      bytes = readFileSync(join(assetsDir, file));
      assets.set(file, bytes);
    }
    return reply.type(ASSETS[file]).header('cache-control', 'public, max-age=86400').send(bytes);
  });
}

/** The API reference page (its inline script is allowed by hash in the node's CSP). */
export function docsPage(info: ApiInfo): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(info.title)} — API reference</title>
<link rel="stylesheet" href="/v1/docs/assets/swagger-ui.css">
</head>
<body>
<div id="reference"></div>
<script src="/v1/docs/assets/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({ url: '/v1/openapi.json', dom_id: '#reference', deepLinking: true, tryItOutEnabled: true });
</script>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
