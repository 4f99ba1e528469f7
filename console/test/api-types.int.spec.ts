import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { generateApiTypes, SCHEMA_FILE } from '../../scripts/console-api-types.ts';

// The console's API client is typed by `schema.d.ts`; it must be what the node's OpenAPI document says
// today, or the console would compile against an API that changed.
it("the console's API types match the node's /v1/openapi.json (npm run console:api regenerates them)", async () => {
  const expected = await generateApiTypes();
  expect(
    readFileSync(SCHEMA_FILE, 'utf8') === expected,
    `${SCHEMA_FILE} is stale: run npm run console:api`,
  ).toBe(true);
});
