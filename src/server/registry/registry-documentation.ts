import { z } from 'zod';
import type { ApiRegistry } from '../api/route.ts';
import { REGISTRY_MEDIA_TYPE, REGISTRY_PREFIX } from './registry-constants.ts';

const reference = z.object({ name: z.string(), subject: z.string(), version: z.int() });
const schemaBody = z.object({
  schema: z.string().describe('The schema, as JSON text.'),
  schemaType: z.enum(['AVRO', 'JSON']).optional().describe('Default AVRO.'),
  references: z.array(reference).optional(),
});
const schemaAnswer = z.object({
  schemaType: z.enum(['JSON']).optional().describe('Absent for AVRO.'),
  schema: z.string(),
  references: z.array(reference).optional(),
});
const versionAnswer = schemaAnswer.extend({ subject: z.string(), version: z.int(), id: z.int() });
const subject = z.object({ subject: z.string() });
const subjectVersion = subject.extend({ version: z.string().describe('A version number, `latest` or -1.') });
const id = z.object({ id: z.string().describe('Global schema id.') });
const deleted = z.object({
  deleted: z.enum(['true', 'false']).optional().describe('Include soft-deleted versions.'),
});
const permanent = z.object({
  permanent: z.enum(['true', 'false']).optional().describe('Hard delete (after a soft one).'),
});
const verdict = z.object({ is_compatible: z.boolean(), messages: z.array(z.string()).optional() });
const level = z.enum([
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
]);
const mode = z.object({ mode: z.enum(['READWRITE', 'READONLY']) });

type Operation = [
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  operationId: string,
  summary: string,
  parts: {
    params?: z.ZodObject;
    query?: z.ZodObject;
    body?: z.ZodType;
    answer: z.ZodType;
    problems?: number[];
  },
];

const operations: Operation[] = [
  [
    'GET',
    '/subjects',
    'registryListSubjects',
    'Subjects with a live version',
    { query: deleted.extend({ subjectPrefix: z.string().optional() }), answer: z.array(z.string()) },
  ],
  [
    'GET',
    '/subjects/:subject/versions',
    'registryListVersions',
    "A subject's version numbers",
    { params: subject, query: deleted, answer: z.array(z.int()), problems: [404] },
  ],
  [
    'POST',
    '/subjects/:subject/versions',
    'registryRegister',
    'Register a schema under a subject (checked by its compatibility level)',
    { params: subject, body: schemaBody, answer: z.object({ id: z.int() }), problems: [409, 422] },
  ],
  [
    'POST',
    '/subjects/:subject',
    'registryLookup',
    'The version of a subject that holds a schema',
    { params: subject, query: deleted, body: schemaBody, answer: versionAnswer, problems: [404, 422] },
  ],
  [
    'DELETE',
    '/subjects/:subject',
    'registryDeleteSubject',
    'Soft-delete (or, permanent, hard-delete) every version',
    { params: subject, query: permanent, answer: z.array(z.int()), problems: [404, 422] },
  ],
  [
    'GET',
    '/subjects/:subject/versions/:version',
    'registryGetVersion',
    'One version of a subject',
    { params: subjectVersion, query: deleted, answer: versionAnswer, problems: [404, 422] },
  ],
  [
    'GET',
    '/subjects/:subject/versions/:version/schema',
    'registryGetVersionSchema',
    'The schema text of one version',
    { params: subjectVersion, answer: z.unknown(), problems: [404, 422] },
  ],
  [
    'GET',
    '/subjects/:subject/versions/:version/referencedby',
    'registryReferencedBy',
    'Ids of the schemas that reference a version',
    { params: subjectVersion, answer: z.array(z.int()), problems: [404, 422] },
  ],
  [
    'DELETE',
    '/subjects/:subject/versions/:version',
    'registryDeleteVersion',
    'Soft-delete (or, permanent, hard-delete) a version',
    { params: subjectVersion, query: permanent, answer: z.int(), problems: [404, 422] },
  ],
  [
    'GET',
    '/schemas/types',
    'registrySchemaTypes',
    'The schema types the registry keeps',
    { answer: z.array(z.string()) },
  ],
  [
    'GET',
    '/schemas/ids/:id',
    'registryGetSchema',
    'The schema with a global id',
    { params: id, answer: schemaAnswer, problems: [404] },
  ],
  [
    'GET',
    '/schemas/ids/:id/schema',
    'registryGetSchemaText',
    'The schema text with a global id',
    { params: id, answer: z.unknown(), problems: [404] },
  ],
  [
    'GET',
    '/schemas/ids/:id/versions',
    'registryGetSchemaVersions',
    'The subject versions that use a schema',
    {
      params: id,
      query: deleted,
      answer: z.array(z.object({ subject: z.string(), version: z.int() })),
      problems: [404],
    },
  ],
  [
    'GET',
    '/schemas/ids/:id/subjects',
    'registryGetSchemaSubjects',
    'The subjects that use a schema',
    { params: id, query: deleted, answer: z.array(z.string()), problems: [404] },
  ],
  [
    'POST',
    '/compatibility/subjects/:subject/versions/:version',
    'registryCheckAgainstVersion',
    'Check a schema against one version',
    {
      params: subjectVersion,
      query: z.object({ verbose: z.enum(['true', 'false']).optional() }),
      body: schemaBody,
      answer: verdict,
      problems: [404, 422],
    },
  ],
  [
    'POST',
    '/compatibility/subjects/:subject/versions',
    'registryCheck',
    "Check a schema against the versions the subject's level names",
    {
      params: subject,
      query: z.object({ verbose: z.enum(['true', 'false']).optional() }),
      body: schemaBody,
      answer: verdict,
      problems: [422],
    },
  ],
  [
    'GET',
    '/config',
    'registryGetConfig',
    "The registry's compatibility level",
    { answer: z.object({ compatibilityLevel: level }) },
  ],
  [
    'PUT',
    '/config',
    'registrySetConfig',
    "Set the registry's compatibility level",
    { body: z.object({ compatibility: level }), answer: z.object({ compatibility: level }), problems: [422] },
  ],
  [
    'GET',
    '/config/:subject',
    'registryGetSubjectConfig',
    "A subject's compatibility level",
    {
      params: subject,
      query: z.object({ defaultToGlobal: z.enum(['true', 'false']).optional() }),
      answer: z.object({ compatibilityLevel: level }),
      problems: [404],
    },
  ],
  [
    'PUT',
    '/config/:subject',
    'registrySetSubjectConfig',
    "Set a subject's compatibility level",
    {
      params: subject,
      body: z.object({ compatibility: level }),
      answer: z.object({ compatibility: level }),
      problems: [422],
    },
  ],
  [
    'DELETE',
    '/config/:subject',
    'registryDeleteSubjectConfig',
    "Remove a subject's own level (it falls back to the registry's)",
    { params: subject, answer: z.object({ compatibilityLevel: level }) },
  ],
  ['GET', '/mode', 'registryGetMode', "The registry's mode", { answer: mode }],
  [
    'PUT',
    '/mode',
    'registrySetMode',
    "Set the registry's mode (READONLY refuses registrations and deletions)",
    { body: mode, answer: mode, problems: [422] },
  ],
  ['GET', '/mode/:subject', 'registryGetSubjectMode', "A subject's mode", { params: subject, answer: mode }],
  [
    'PUT',
    '/mode/:subject',
    'registrySetSubjectMode',
    "Set a subject's mode",
    { params: subject, body: mode, answer: mode, problems: [422] },
  ],
];

/** Describes the Confluent-compatible registry routes (registered by hand, in their own error format) in the document. */
export function documentRegistryRoutes(api: ApiRegistry): void {
  for (const [method, url, operationId, summary, parts] of operations) {
    api.document({
      method,
      url: `${REGISTRY_PREFIX}${url}`,
      operationId,
      summary,
      description:
        'Confluent Schema Registry API: answers and bodies are `application/vnd.schemaregistry.v1+json`; errors are Confluent\'s `{"error_code": 40401, "message": ...}` (40401 subject, 40402 version, 40403 schema not found; 409 incompatible; 42201 invalid schema; 42202 invalid version; 42203 invalid level; 42205 read-only; 42206 referenced).',
      tag: 'registry',
      ...(parts.params === undefined ? {} : { params: parts.params }),
      ...(parts.query === undefined ? {} : { query: parts.query }),
      ...(parts.body === undefined
        ? {}
        : { body: parts.body, bodyMediaTypes: [REGISTRY_MEDIA_TYPE, 'application/json'] }),
      answer: parts.answer,
      answerMediaType: REGISTRY_MEDIA_TYPE,
      ...(parts.problems === undefined ? {} : { problems: parts.problems }),
    });
  }
}
