import { z } from 'zod';
import { problemSchema } from './problem-schema.ts';
import type { ObjectSchema, RouteSpec } from './route.ts';

/** A JSON Schema or OpenAPI object, as plain JSON. */
type Json = Record<string, unknown>;

/** Title, version and description of the API in its document. */
export interface ApiInfo {
  title: string;
  version: string;
  description?: string;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'The request breaks its schema: `errors` names each field.',
  403: "The node's configuration forbids the operation (`setting` names the key).",
  404: 'A resource named in the path does not exist.',
  409: 'The request conflicts with the current state of the resource.',
  413: 'The request body is too large.',
  415: 'The request body is in a media type the operation does not read.',
  422: 'The request is well-formed but cannot be acted on: `errors` names each field.',
  500: 'The node failed to handle the request.',
  503: 'The node cannot serve the request now (starting, shutting down, transport unavailable).',
};

/** JSON Schema (2020-12, the dialect of OpenAPI 3.1) of a zod schema, as the client sends or receives it. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as Json;
  return rest;
}

/** Builds the OpenAPI 3.1 document of the given routes. */
export function buildOpenApiDocument(routes: readonly Omit<RouteSpec, 'handler'>[], info: ApiInfo): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    const path = openApiPath(route.url);
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operationOf(route);
  }
  const tags = [...new Set(routes.map((route) => route.tag))].sort().map((name) => ({ name }));
  return {
    openapi: '3.1.0',
    info,
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags,
    paths,
    components: {
      schemas: { Problem: jsonSchemaOf(problemSchema, 'output') },
    },
  };
}

/** `/v1/jobs/:id` → `/v1/jobs/{id}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function operationOf(route: Omit<RouteSpec, 'handler'>): Json {
  const parameters = [...parametersOf(route.params, 'path'), ...parametersOf(route.query, 'query')];
  const operation: Json = {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    responses: responsesOf(route),
  };
  if (route.description !== undefined) operation.description = route.description;
  if (parameters.length > 0) operation.parameters = parameters;
  if (route.body !== undefined) {
    const schema = jsonSchemaOf(route.body, 'input');
    operation.requestBody = {
      required: true,
      content: Object.fromEntries(
        (route.bodyMediaTypes ?? ['application/json']).map((type) => [type, { schema }]),
      ),
    };
  }
  return operation;
}

function parametersOf(schema: ObjectSchema | undefined, where: 'path' | 'query'): Json[] {
  if (schema === undefined) return [];
  return Object.entries(schema.shape).map(([name, field]) => {
    const fieldSchema = field as z.ZodType;
    const parameter: Json = {
      name,
      in: where,
      required: where === 'path' || !fieldSchema.safeParse(undefined).success,
      schema: jsonSchemaOf(fieldSchema, 'input'),
    };
    const description = fieldSchema.description;
    if (description !== undefined) parameter.description = description;
    return parameter;
  });
}

function responsesOf(route: Omit<RouteSpec, 'handler'>): Json {
  const problemStatuses = [...new Set([400, ...(route.problems ?? []), 500])].sort((a, b) => a - b);
  const responses: Json = {
    [String(route.status ?? 200)]: {
      description: route.summary,
      content: Object.fromEntries(
        (route.answerMediaTypes ?? [route.answerMediaType ?? 'application/json']).map((type) => [
          type,
          { schema: jsonSchemaOf(route.answer, 'output') },
        ]),
      ),
    },
  };
  for (const status of problemStatuses) {
    responses[String(status)] = {
      description: STATUS_TEXT[status] ?? 'Problem details.',
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    };
  }
  return responses;
}
