import postgres, { type Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminConnection,
  dropSchema,
  postgresUrl,
  testSchemaName,
} from '../../test-support/postgres-database.ts';
import { usePostgresTestLock } from '../../test-support/postgres-lock.ts';
import { testEvents } from '../contract/contract-helpers.ts';
import type { EventStore } from '../event-store.ts';
import { asTenant } from './postgres-context.ts';
import { createPostgresEventStore } from './postgres-event-store.ts';

/** A role that is neither superuser nor BYPASSRLS, made owner of the store's tables: FORCE must hold it. */
const OWNER = 'keel_rls_owner_test';
const TABLES = ['store_streams', 'store_events', 'store_snapshots', 'store_outbox'];

usePostgresTestLock();
describe('postgres row-level security on the store tables', () => {
  const admin = adminConnection();
  const schema = testSchemaName('rls');
  const q = `"${schema}"`;
  let writer: EventStore;
  let owner: Sql;
  let ownerStore: EventStore;
  let globexEventId: string;

  beforeAll(async () => {
    writer = createPostgresEventStore({ url: postgresUrl, schema });
    for (const tenant of ['acme', 'globex']) {
      const [event] = testEvents(1);
      if (tenant === 'globex') globexEventId = event!.id;
      await writer.append(`patient-${tenant}`, [event!], { tenantId: tenant });
      await writer.append(`visit-${tenant}`, testEvents(2), { tenantId: tenant });
      await writer.writeSnapshot({
        streamId: `patient-${tenant}`,
        name: 'patient',
        streamVersion: 1,
        stateVersion: 1,
        state: { tenant },
      });
    }
    await admin.unsafe(`DO $$ BEGIN CREATE ROLE ${OWNER} LOGIN NOSUPERUSER NOBYPASSRLS;
      EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
    await admin.unsafe(`GRANT USAGE ON SCHEMA ${q} TO ${OWNER}`);
    await admin.unsafe(`GRANT SELECT ON ${q}.store_migrations TO ${OWNER}`);
    for (const table of TABLES) await admin.unsafe(`ALTER TABLE ${q}.${table} OWNER TO ${OWNER}`);
    const ownerUrl = postgresUrl.replace(/\/\/[^@/]*@/, `//${OWNER}@`);
    owner = postgres(ownerUrl, { max: 2, onnotice: () => {} });
    ownerStore = createPostgresEventStore({ url: ownerUrl, schema, maxConnections: 2 });
  });
  afterAll(async () => {
    await ownerStore?.close();
    await owner?.end();
    await writer?.close();
    await dropSchema(admin, schema);
    await admin.end();
  });

  /** Tenants of every row of `table` that a statement with no tenant filter at all returns. */
  const tenantsIn = async (table: string, tenant: string | undefined) => {
    const rows = await asTenant(owner, tenant, (runner) =>
      runner.unsafe(`SELECT DISTINCT tenant_id FROM ${q}.${table} ORDER BY tenant_id`),
    );
    return rows.map((row) => row.tenant_id as string);
  };

  it("shows a transaction that names a tenant only that tenant's rows, even to a statement with no filter", async () => {
    for (const table of TABLES.filter((t) => t !== 'store_outbox')) {
      expect(await tenantsIn(table, 'acme'), table).toEqual(['acme']);
      expect(await tenantsIn(table, 'globex'), table).toEqual(['globex']);
      expect(await tenantsIn(table, 'initech'), table).toEqual([]);
      // Without a tenant (the store's whole-store reads, appends and relays) every row is there.
      expect(await tenantsIn(table, undefined), table).toEqual(['acme', 'globex']);
    }
  });

  it("refuses a write of another tenant's row in a transaction scoped to one", async () => {
    const write = asTenant(owner, 'acme', (runner) =>
      runner.unsafe(
        `INSERT INTO ${q}.store_streams (stream_id, tenant_id, version) VALUES ('sneaky', 'globex', 0)`,
      ),
    );
    await expect(write).rejects.toThrow(/row-level security/);
    const probe = await owner.unsafe(
      `SELECT count(*)::int AS n FROM ${q}.store_streams WHERE stream_id = 'sneaky'`,
    );
    expect(probe[0]?.n).toBe(0);
  });

  it("keeps a tenant handle's reads to its tenant through the database, and the whole store's to all", async () => {
    const acme = ownerStore.forTenant('acme');
    expect(await acme.readEvent(globexEventId)).toBeUndefined();
    expect((await acme.readStream('patient-globex')).streamVersion).toBe(0);
    expect(await acme.listSnapshots('patient-globex')).toEqual([]);
    expect((await acme.listStreams({})).map((s) => s.tenantId)).toEqual(['acme', 'acme']);
    expect(new Set((await acme.readAll({})).events.map((e) => e.tenantId))).toEqual(new Set(['acme']));
    expect(await acme.countEvents({})).toBe(3);
    expect(await ownerStore.countEvents({})).toBe(6);
    expect((await ownerStore.readEvent(globexEventId))?.tenantId).toBe('globex');
  });
});
