import type { EventDefinition } from './define-event.ts';
import { UpcastError } from './errors.ts';

/**
 * Brings data written at `fromVersion` to the definition's current version by applying its upcasters in
 * order (fromVersion → fromVersion + 1 → ...). Throws UpcastError when the version is not an integer ≥ 1,
 * is newer than the definition, an upcaster in the chain is missing, or one throws.
 */
export function upcastData(definition: EventDefinition, fromVersion: number, data: unknown): unknown {
  const details = { eventType: definition.type, fromVersion, toVersion: definition.version };
  if (!Number.isInteger(fromVersion) || fromVersion < 1) {
    throw new UpcastError(`${definition.type}: version ${fromVersion} is not an integer ≥ 1`, {
      ...details,
      reason: 'invalid_version',
    });
  }
  if (fromVersion > definition.version) {
    throw new UpcastError(
      `${definition.type}: data is at version ${fromVersion}, newer than the known version ${definition.version}`,
      { ...details, reason: 'newer_version' },
    );
  }
  let current = data;
  for (let version = fromVersion; version < definition.version; version++) {
    const upcaster = definition.upcasters.find((u) => u.fromVersion === version);
    if (!upcaster) {
      throw new UpcastError(
        `${definition.type}: no upcaster from version ${version} to ${version + 1}, so data at version ${fromVersion} cannot be read`,
        { ...details, reason: 'missing_upcaster' },
      );
    }
    try {
      current = upcaster.upcast(current);
    } catch (error) {
      throw new UpcastError(
        `${definition.type}: upcaster from version ${version} failed: ${(error as Error).message}`,
        { ...details, reason: 'upcaster_failed' },
        { cause: error },
      );
    }
  }
  return current;
}
