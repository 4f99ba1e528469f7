// What row-level security costs a tenant-scoped read on the PostgreSQL store: the same stream read and
// read-all page through a tenant handle (a transaction that sets keel.tenant, then the statement under the
// policies) and through the whole store (no transaction, the policies' "no tenant" branch), by a role that is
// neither superuser nor BYPASSRLS and owns the tables (so FORCE ROW LEVEL SECURITY holds it); and the tenant
// page once more by a superuser, whom the policies never hold.
import postgres from 'postgres';
import { z } from 'zod';
import { createEvent } from '../src/events/create-event.ts';
import { defineEvent } from '../src/events/define-event.ts';
import { createPostgresEventStore } from '../src/store/postgres/index.ts';
import type { BenchResult } from './stats.ts';

const URL = process.env.KEEL_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const OWNER = 'keel_rls_owner_bench';
const READS = Number(process.env.KEEL_BENCH_TENANT_READS ?? 2_000);
const Visit = defineEvent({ type: 'bench.visit', version: 1, schema: z.object({ n: z.number() }) });

/** Mean microseconds of `work` over READS calls, after a warm-up of a tenth of them. */
async function micros(work: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < READS / 10; i++) await work();
  const started = process.hrtime.bigint();
  for (let i = 0; i < READS; i++) await work();
  return Number(process.hrtime.bigint() - started) / 1000 / READS;
}

/** Tenant-scoped vs whole-store reads of the same rows, alternated three times. */
export async function tenantReadBenchmarks(): Promise<BenchResult[]> {
  const schema = `keel_bench_rls_${process.pid}`;
  const admin = postgres(URL, { max: 1, onnotice: () => {} });
  const writer = createPostgresEventStore({ url: URL, schema });
  const ownerUrl = URL.replace(/\/\/[^@/]*@/, `//${OWNER}@`);
  let store: ReturnType<typeof createPostgresEventStore> | undefined;
  try {
    for (const tenant of ['acme', 'globex']) {
      for (let s = 0; s < 50; s++) {
        const events = Array.from({ length: 20 }, (_, n) =>
          createEvent(Visit, { n }, { source: 'urn:bench' }),
        );
        await writer.append(`visit-${tenant}-${s}`, events, { tenantId: tenant });
      }
    }
    await admin.unsafe(`DO $$ BEGIN CREATE ROLE ${OWNER} LOGIN NOSUPERUSER NOBYPASSRLS;
      EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
    await admin.unsafe(`GRANT USAGE ON SCHEMA "${schema}" TO ${OWNER}`);
    await admin.unsafe(`GRANT SELECT ON "${schema}".store_migrations TO ${OWNER}`);
    for (const table of ['store_streams', 'store_events', 'store_snapshots', 'store_outbox']) {
      await admin.unsafe(`ALTER TABLE "${schema}".${table} OWNER TO ${OWNER}`);
    }
    store = createPostgresEventStore({ url: ownerUrl, schema, maxConnections: 2 });
    const whole = store;
    const acme = store.forTenant('acme');
    const runs = { stream: [[], []] as number[][], page: [[], []] as number[][] };
    // The same tenant page read by a superuser: the transaction and the tenant filter, no policies.
    const bypassing: number[] = [];
    for (let round = 0; round < 3; round++) {
      runs.stream[0]!.push(await micros(() => whole.readStream('visit-acme-7')));
      runs.stream[1]!.push(await micros(() => acme.readStream('visit-acme-7')));
      // The whole store's page holds both tenants' events (a tenant filter would take the scoped path too).
      runs.page[0]!.push(await micros(() => whole.readAll({ maxCount: 100 })));
      runs.page[1]!.push(await micros(() => acme.readAll({ maxCount: 100 })));
      bypassing.push(await micros(() => writer.forTenant('acme').readAll({ maxCount: 100 })));
    }
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const line = (what: string, [plain, scoped]: number[][]): BenchResult[] => [
      {
        name: `tenant reads: ${what}, whole store`,
        value: Number(mean(plain!).toFixed(1)),
        unit: 'µs/read',
        note: `${READS} reads × 3, as a non-superuser owner role (policies evaluated)`,
      },
      {
        name: `tenant reads: ${what}, tenant handle under row-level security`,
        value: Number(mean(scoped!).toFixed(1)),
        unit: 'µs/read',
        note: `+${(mean(scoped!) - mean(plain!)).toFixed(1)} µs: BEGIN, set_config('keel.tenant'), the read, COMMIT`,
      },
    ];
    return [
      ...line('a 20-event stream', runs.stream),
      ...line('a 100-event read-all page', runs.page),
      {
        name: 'tenant reads: a 100-event read-all page, tenant handle read by a superuser (policies bypassed)',
        value: Number(mean(bypassing).toFixed(1)),
        unit: 'µs/read',
        note: 'the transaction and the tenant filter without the policies: the line above less this is their cost',
      },
    ];
  } finally {
    await store?.close();
    await writer.close();
    await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
}
