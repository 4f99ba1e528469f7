import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { RequestInvalidError, type RequestPart } from './errors.ts';
import { issuesOf } from './issues.ts';
import { assertJsonDepth } from './json-depth.ts';

/** HTTP methods the API uses. */
export type ApiMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** A schema for an object of named values (path parameters, query string, JSON body). */
export type ObjectSchema = z.ZodObject;

/** What a route handler receives: the parsed, validated request parts. */
export interface RouteInput<P extends ObjectSchema, Q extends ObjectSchema, B extends z.ZodType> {
  params: z.output<P>;
  query: z.output<Q>;
  body: z.output<B>;
  request: FastifyRequest;
  reply: FastifyReply;
}

/**
 * One operation of the HTTP API, declared with zod schemas for its parameters, query, body and answer.
 * The same declaration validates requests and is the source of the OpenAPI document.
 */
export interface RouteSpec<
  P extends ObjectSchema = ObjectSchema,
  Q extends ObjectSchema = ObjectSchema,
  B extends z.ZodType = z.ZodType,
  A extends z.ZodType = z.ZodType,
> {
  method: ApiMethod;
  /** Fastify-style path, e.g. `/v1/jobs/:id`. */
  url: string;
  /** Unique name of the operation in the OpenAPI document, e.g. `getJob`. */
  operationId: string;
  /** One line saying what the operation does. */
  summary: string;
  /** Longer explanation (markdown), when the summary is not enough. */
  description?: string;
  /** Group in the reference page, e.g. `topics`. */
  tag: string;
  params?: P;
  query?: Q;
  /** JSON body; absent for operations without one. */
  body?: B;
  /** Media types the body may come in, for the document; default `application/json`. */
  bodyMediaTypes?: readonly string[];
  /** Shape of the success answer. */
  answer: A;
  /** Media type of the success answer, for the document; default `application/json`. */
  answerMediaType?: string;
  /** Media types the success answer may come in (e.g. NDJSON or CSV), for the document; wins over `answerMediaType`. */
  answerMediaTypes?: readonly string[];
  /**
   * The handler streams its answer: it returns a Readable (sent as it is, never checked against `answer`)
   * or takes the connection over (`reply.hijack()`) and answers itself. `answer` describes it for the document.
   */
  streamed?: boolean;
  /**
   * The body is not JSON: the handler reads the raw bytes from `request.body` itself, and `body` only
   * describes it for the document.
   */
  rawBody?: boolean;
  /** Status of the success answer; default 200. */
  status?: number;
  /** Problem statuses the operation can answer besides 400 and 500, e.g. `[404, 409]`. */
  problems?: readonly number[];
  handler(input: RouteInput<P, Q, B>): Promise<z.input<A>>;
}

/** Schema of an empty object: a route without path parameters or query. */
type EmptyObject = z.ZodObject<Record<never, never>>;

/** Declares a route; an identity function that lets TypeScript infer the handler's types from the schemas. */
export function defineRoute<
  P extends ObjectSchema = EmptyObject,
  Q extends ObjectSchema = EmptyObject,
  B extends z.ZodType = z.ZodUndefined,
  A extends z.ZodType = z.ZodType,
>(spec: RouteSpec<P, Q, B, A>): RouteSpec<P, Q, B, A> {
  return spec;
}

/** The API's routes, registered on fastify and kept for the OpenAPI document. */
export interface ApiRegistry {
  /** Registers a route on the app and records it. */
  add(route: RouteSpec<ObjectSchema, ObjectSchema, z.ZodType, z.ZodType>): void;
  /**
   * Records a route registered by hand (it reads its request itself, like the CloudEvents binding), so the
   * document describes it too; nothing is registered on fastify.
   */
  document(route: Omit<RouteSpec, 'handler'>): void;
  /** Every route added or documented, in order. */
  routes(): readonly Omit<RouteSpec, 'handler'>[];
}

/** How the registry treats routes. */
export interface ApiRegistryOptions {
  /** Checks every answer against its schema (a mismatch is a 500): for tests, it costs a parse per request. */
  checkAnswers?: boolean;
}

/** Creates the registry that puts declared routes on `app`. */
export function createApiRegistry(app: FastifyInstance, options: ApiRegistryOptions = {}): ApiRegistry {
  const routes: Omit<RouteSpec, 'handler'>[] = [];
  return {
    document(route) {
      routes.push(route);
    },
    add(route) {
      routes.push(route as RouteSpec);
      app.route({
        method: route.method,
        url: route.url,
        handler: async (request, reply) => {
          const input = {
            params: parsePart('params', route.params, request.params ?? {}),
            query: parsePart('query', route.query, request.query ?? {}),
            body:
              route.body === undefined || route.rawBody
                ? undefined
                : parsePart('body', route.body, jsonBody(request.body)),
            request,
            reply,
          };
          const answer = await route.handler(input as never);
          // A hijacked reply was answered by the handler itself (a stream of server-sent events).
          if (reply.sent) return reply;
          if (options.checkAnswers && !route.streamed) checkAnswer(route, answer);
          return reply.code(route.status ?? 200).send(answer);
        },
      });
    },
    routes: () => routes,
  };
}

/** Throws when an answer breaks the route's answer schema: the OpenAPI document would lie. */
function checkAnswer(route: Omit<RouteSpec, 'handler'>, answer: unknown): void {
  const result = route.answer.safeParse(answer);
  if (!result.success) {
    const where = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`answer of ${route.operationId} breaks its schema: ${where}`);
  }
}

/** Validates one part of a request; throws RequestInvalidError naming each bad field. */
function parsePart(part: RequestPart, schema: z.ZodType | undefined, value: unknown): unknown {
  if (schema === undefined) return {};
  const result = schema.safeParse(value);
  if (!result.success) throw new RequestInvalidError(issuesOf(part, result.error));
  return result.data;
}

/** The request body as JSON: bodies reach routes as bytes (see createApp); an empty body is `{}`. */
function jsonBody(body: unknown): unknown {
  if (!Buffer.isBuffer(body)) return body ?? {};
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new RequestInvalidError([
      { path: 'body', rule: 'malformed_json', message: (error as Error).message },
    ]);
  }
  assertJsonDepth(parsed, 'body');
  return parsed;
}
