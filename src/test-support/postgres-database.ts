import postgres, { type Sql } from 'postgres';

/** The PostgreSQL the tests use: `KEEL_POSTGRES_URL`, else the dev/CI server. */
export const postgresUrl: string = process.env.KEEL_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let sequence = 0;

/** A schema name no other test file, process or earlier run uses: `keel_test_<label>_<pid>_<n>_<random>`. */
export function testSchemaName(label: string): string {
  const random = Math.random().toString(36).slice(2, 8);
  return `keel_test_${label}_${process.pid}_${++sequence}_${random}`.slice(0, 63);
}

/** An admin connection for a test: creating and dropping schemas, side tables, inspecting rows. */
export function adminConnection(): Sql {
  return postgres(postgresUrl, { max: 2, onnotice: () => {} });
}

/** Drops a test schema and everything in it. */
export async function dropSchema(admin: Sql, schema: string): Promise<void> {
  await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
