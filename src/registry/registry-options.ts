import { z } from 'zod';
import { parseOptions } from '../errors/options.ts';
import type { RegistryStorage } from './registry-storage.ts';
import { type CompatibilityLevel, compatibilityLevels } from './types.ts';

/** How a schema registry is made. */
export interface SchemaRegistryOptions {
  /** Where it keeps schemas: `createSqliteRegistryStorage` or `createPostgresRegistryStorage`. */
  storage: RegistryStorage;
  /** The level when neither the subject nor the registry has one set; default `BACKWARD`, as Confluent's. */
  defaultCompatibility?: CompatibilityLevel;
}

const isStorage = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && typeof (value as RegistryStorage).register === 'function';

/** The registry's options with their defaults. */
export const schemaRegistryOptionsSchema = z.object({
  storage: z.custom<RegistryStorage>(isStorage, { error: 'expected a registry storage' }),
  defaultCompatibility: z
    .enum(compatibilityLevels, { error: `expected one of ${compatibilityLevels.join(', ')}` })
    .default('BACKWARD'),
});

/** Checks the registry's options once; an OptionsError names each broken key. */
export function parseSchemaRegistryOptions(options: SchemaRegistryOptions) {
  return parseOptions(schemaRegistryOptionsSchema, options, 'schema registry');
}
