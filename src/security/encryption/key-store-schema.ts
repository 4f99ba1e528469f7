import type { SchemaComponent } from '../../sql/schema-error.ts';

/** The key store's tables as a schema component (names it in migration errors). */
export const keyStoreSchema: SchemaComponent = { name: 'PHI key store', code: 'KEEL_PHI_SCHEMA' };
