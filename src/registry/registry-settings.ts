import { InvalidCompatibilityLevelError } from './errors.ts';
import type { RegistryStorage } from './registry-storage.ts';
import { type CompatibilityLevel, compatibilityLevels, type RegistryMode, registryModes } from './types.ts';

/** Compatibility levels and modes, per subject and for the whole registry. */
export function createRegistrySettings(storage: RegistryStorage, defaultCompatibility: CompatibilityLevel) {
  return {
    compatibility: async (subject?: string, options?: { defaultToGlobal?: boolean }) => {
      if (subject === undefined) return (await storage.compatibility(null)) ?? defaultCompatibility;
      const own = await storage.compatibility(subject);
      if (own !== undefined || options?.defaultToGlobal === false) return own;
      return (await storage.compatibility(null)) ?? defaultCompatibility;
    },
    setCompatibility: async (level: string, subject?: string) => {
      if (!(compatibilityLevels as readonly string[]).includes(level)) {
        throw new InvalidCompatibilityLevelError(level, compatibilityLevels);
      }
      await storage.setCompatibility(subject ?? null, level as CompatibilityLevel);
      return level as CompatibilityLevel;
    },
    deleteCompatibility: async (subject?: string) => {
      const previous = (await storage.compatibility(subject ?? null)) ?? defaultCompatibility;
      await storage.setCompatibility(subject ?? null, undefined);
      return previous;
    },
    mode: async (subject?: string) =>
      (subject === undefined ? undefined : await storage.mode(subject)) ??
      (await storage.mode(null)) ??
      'READWRITE',
    setMode: async (mode: string, subject?: string) => {
      if (!(registryModes as readonly string[]).includes(mode)) {
        throw new InvalidCompatibilityLevelError(mode, registryModes);
      }
      await storage.setMode(subject ?? null, mode as RegistryMode);
      return mode as RegistryMode;
    },
  };
}
