import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidVersionError, RegistryError } from '../../registry/errors.ts';
import type { VersionSpec } from '../../registry/schema-registry.ts';
import type { SchemaInput, StoredSchema, SubjectVersion } from '../../registry/types.ts';

import { REGISTRY_MEDIA_TYPE } from './registry-constants.ts';

/** Largest version number Confluent accepts (2^31 - 1). */
const MAX_VERSION = 2_147_483_647;

/** An error of the registry's wire format: Confluent's `error_code` and message, with its HTTP status. */
export class RegistryRequestError extends RegistryError {
  readonly code = 'KEEL_REGISTRY_BAD_REQUEST';
  readonly errorCode: number;
  readonly status: number;

  constructor(status: number, errorCode: number, message: string) {
    super(message);
    this.status = status;
    this.errorCode = errorCode;
  }
}

/** A path's version: a positive number, `latest` or -1; anything else is Confluent's 42202. */
export function parseVersion(raw: string): VersionSpec {
  if (raw === 'latest' || raw === '-1') return 'latest';
  const version = Number(raw);
  if (!/^\d+$/.test(raw) || version < 1 || version > MAX_VERSION) throw new InvalidVersionError(raw);
  return version;
}

/** A path's schema id. */
export function parseId(raw: string): number {
  const id = Number(raw);
  if (!/^\d+$/.test(raw) || id < 1) throw new RegistryRequestError(404, 40403, `Schema ${raw} not found`);
  return id;
}

/** A boolean query flag (`?deleted=true`). */
export const flag = (value: unknown): boolean => value === 'true';

/** The request's JSON body (every body reaches the node as bytes); a body that is not JSON is a 400. */
export function jsonBody(request: FastifyRequest): Record<string, unknown> {
  const raw = request.body;
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : '';
  try {
    const value: unknown = JSON.parse(text === '' ? '{}' : text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // Answered below, as Confluent does, with its 400 for an unreadable body.
  }
  throw new RegistryRequestError(400, 400, 'the request body is not a JSON object');
}

/** A registration or lookup body as the registry takes it. */
export function schemaInput(body: Record<string, unknown>): SchemaInput {
  return {
    schema: body.schema as string,
    ...(body.schemaType === undefined ? {} : { schemaType: body.schemaType as SchemaInput['schemaType'] }),
    ...(body.references === undefined ? {} : { references: body.references as SchemaInput['references'] }),
  };
}

/** A schema as Confluent shows it: `schemaType` only when not AVRO, `references` only when there are any. */
export function schemaView(schema: StoredSchema): Record<string, unknown> {
  return {
    ...(schema.schemaType === 'AVRO' ? {} : { schemaType: schema.schemaType }),
    schema: schema.schema,
    ...(schema.references.length === 0 ? {} : { references: schema.references }),
  };
}

/** A subject's version as Confluent shows it. */
export function versionView(version: SubjectVersion): Record<string, unknown> {
  return {
    subject: version.subject,
    version: version.version,
    id: version.id,
    ...schemaView(version),
    ...(version.deleted ? { deleted: true } : {}),
  };
}

/** Answers an error in Confluent's shape (`error_code`, `message`), or undefined for errors that are not the registry's. */
export function sendRegistryError(reply: FastifyReply, error: unknown): FastifyReply | undefined {
  if (error instanceof RegistryError) {
    return reply
      .status(error.status)
      .type(REGISTRY_MEDIA_TYPE)
      .send({ error_code: error.errorCode, message: error.message });
  }
  return undefined;
}
