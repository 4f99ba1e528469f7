import type { FastifyInstance, FastifyRequest } from 'fastify';
import { describeIncompatibility, SubjectCompatibilityNotConfiguredError } from '../../registry/errors.ts';
import type { SchemaRegistry } from '../../registry/schema-registry.ts';
import { schemaTypes } from '../../registry/types.ts';
import { REGISTRY_MEDIA_TYPE, REGISTRY_PREFIX } from './registry-constants.ts';
import {
  flag,
  jsonBody,
  parseId,
  parseVersion,
  schemaInput,
  schemaView,
  sendRegistryError,
  versionView,
} from './registry-http.ts';

type Params = Record<string, string>;
type Query = Record<string, string | undefined>;
const params = (request: FastifyRequest): Params => request.params as Params;
const query = (request: FastifyRequest): Query => request.query as Query;

function subjectRoutes(app: FastifyInstance, registry: SchemaRegistry): void {
  app.get('/subjects', async (request) =>
    registry.subjects({ deleted: flag(query(request).deleted), prefix: query(request).subjectPrefix }),
  );
  app.get('/subjects/:subject/versions', async (request) =>
    registry.versions(params(request).subject as string, { deleted: flag(query(request).deleted) }),
  );
  app.get('/subjects/:subject/versions/:version', async (request) => {
    const { subject, version } = params(request) as { subject: string; version: string };
    return versionView(
      await registry.version(subject, parseVersion(version), { deleted: flag(query(request).deleted) }),
    );
  });
  app.get('/subjects/:subject/versions/:version/schema', async (request, reply) => {
    const { subject, version } = params(request) as { subject: string; version: string };
    const found = await registry.version(subject, parseVersion(version), {
      deleted: flag(query(request).deleted),
    });
    return reply.type(REGISTRY_MEDIA_TYPE).send(found.schema);
  });
  app.get('/subjects/:subject/versions/:version/referencedby', async (request) => {
    const { subject, version } = params(request) as { subject: string; version: string };
    return registry.referencedBy(subject, parseVersion(version));
  });
  app.post('/subjects/:subject/versions', async (request) => {
    const registered = await registry.register(
      params(request).subject as string,
      schemaInput(jsonBody(request)),
    );
    return { id: registered.id };
  });
  app.post('/subjects/:subject', async (request) => {
    const found = await registry.lookup(params(request).subject as string, schemaInput(jsonBody(request)), {
      deleted: flag(query(request).deleted),
    });
    return versionView(found);
  });
  app.delete('/subjects/:subject', async (request) =>
    registry.deleteSubject(params(request).subject as string, { permanent: flag(query(request).permanent) }),
  );
  app.delete('/subjects/:subject/versions/:version', async (request) => {
    const { subject, version } = params(request) as { subject: string; version: string };
    return registry.deleteVersion(subject, parseVersion(version), {
      permanent: flag(query(request).permanent),
    });
  });
}

function schemaRoutes(app: FastifyInstance, registry: SchemaRegistry): void {
  app.get('/schemas/types', async () => [...schemaTypes]);
  app.get('/schemas/ids/:id', async (request) =>
    schemaView(await registry.schemaById(parseId(params(request).id as string))),
  );
  app.get('/schemas/ids/:id/schema', async (request, reply) => {
    const found = await registry.schemaById(parseId(params(request).id as string));
    return reply.type(REGISTRY_MEDIA_TYPE).send(found.schema);
  });
  app.get('/schemas/ids/:id/versions', async (request) =>
    registry.versionsOfId(parseId(params(request).id as string), { deleted: flag(query(request).deleted) }),
  );
  app.get('/schemas/ids/:id/subjects', async (request) => {
    const versions = await registry.versionsOfId(parseId(params(request).id as string), {
      deleted: flag(query(request).deleted),
    });
    return [...new Set(versions.map((v) => v.subject))];
  });
  const compatibility = async (request: FastifyRequest) => {
    const { subject, version } = params(request) as { subject: string; version?: string };
    const verdict = await registry.checkCompatibility(
      subject,
      schemaInput(jsonBody(request)),
      version === undefined ? undefined : parseVersion(version),
    );
    return {
      is_compatible: verdict.compatible,
      ...(flag(query(request).verbose)
        ? { messages: verdict.incompatibilities.map(describeIncompatibility) }
        : {}),
    };
  };
  app.post('/compatibility/subjects/:subject/versions/:version', compatibility);
  app.post('/compatibility/subjects/:subject/versions', compatibility);
}

function configRoutes(app: FastifyInstance, registry: SchemaRegistry): void {
  app.get('/config', async () => ({ compatibilityLevel: await registry.compatibility() }));
  app.put('/config', async (request) => ({
    compatibility: await registry.setCompatibility(String(jsonBody(request).compatibility)),
  }));
  app.get('/config/:subject', async (request) => {
    const subject = params(request).subject as string;
    const level = await registry.compatibility(subject, {
      defaultToGlobal: flag(query(request).defaultToGlobal),
    });
    if (level === undefined) {
      throw new SubjectCompatibilityNotConfiguredError(subject);
    }
    return { compatibilityLevel: level };
  });
  app.put('/config/:subject', async (request) => ({
    compatibility: await registry.setCompatibility(
      String(jsonBody(request).compatibility),
      params(request).subject,
    ),
  }));
  app.delete('/config/:subject', async (request) => ({
    compatibilityLevel: await registry.deleteCompatibility(params(request).subject),
  }));
  app.get('/mode', async () => ({ mode: await registry.mode() }));
  app.put('/mode', async (request) => ({ mode: await registry.setMode(String(jsonBody(request).mode)) }));
  app.get('/mode/:subject', async (request) => ({ mode: await registry.mode(params(request).subject) }));
  app.put('/mode/:subject', async (request) => ({
    mode: await registry.setMode(String(jsonBody(request).mode), params(request).subject),
  }));
}

/**
 * Mounts the Confluent Schema Registry API (the subset its clients use) under `/registry`: its paths, its
 * media type and its errors (`{"error_code": 40401, "message": ...}`), so Confluent's serializers and other
 * clients work against the node unchanged.
 */
export function registerSchemaRegistryRoutes(app: FastifyInstance, registry: SchemaRegistry): void {
  app.register(
    async (scope) => {
      scope.addHook('onSend', async (_request, reply, payload) => {
        if (
          !reply.hasHeader('content-type') ||
          String(reply.getHeader('content-type')).startsWith('application/json')
        ) {
          reply.header('content-type', REGISTRY_MEDIA_TYPE);
        }
        return payload;
      });
      scope.setErrorHandler((error, _request, reply) => {
        if (sendRegistryError(reply, error) !== undefined) return reply;
        throw error;
      });
      subjectRoutes(scope, registry);
      schemaRoutes(scope, registry);
      configRoutes(scope, registry);
    },
    { prefix: REGISTRY_PREFIX },
  );
}
