import { z } from 'zod';

/** JSON shape of an RFC 9457 problem details answer, with Keel's extension members. */
export const problemSchema = z
  .looseObject({
    type: z.string().describe('URI naming the kind of problem, e.g. `https://keel.dev/problems/validation`.'),
    title: z.string().describe('Short summary of the kind of problem.'),
    status: z.int().describe('HTTP status code.'),
    detail: z.string().describe('What went wrong this time.'),
    errors: z
      .array(
        z.object({
          path: z.string().describe('The field, e.g. `query.limit` or `body.to`.'),
          rule: z.string().describe('The rule broken, e.g. `too_big`.'),
          message: z.string(),
        }),
      )
      .optional()
      .describe('Every rule broken, naming the field.'),
  })
  .describe('RFC 9457 problem details.');
