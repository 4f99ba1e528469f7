import type { Bundle, Reference, Resource } from '@medplum/fhirtypes';
import type { MappingContext } from './mapping.ts';

/**
 * Resolves references the way a FHIR server does inside a bundle: `urn:uuid:...` (and any full URL) through
 * the entries' `fullUrl`, `Type/id` and `https://host/fhir/Type/id` by their last two segments.
 */
export function bundleContext(bundle: Bundle | undefined): MappingContext {
  const byFullUrl = new Map<string, Resource>();
  for (const entry of bundle?.entry ?? []) {
    if (entry.fullUrl && entry.resource) byFullUrl.set(entry.fullUrl, entry.resource);
  }
  return {
    idOf(reference: Reference | undefined, type: string): string | undefined {
      const value = reference?.reference;
      if (!value) return undefined;
      const inBundle = byFullUrl.get(value);
      if (inBundle) {
        if (inBundle.resourceType !== type) return undefined;
        return inBundle.id ?? value.replace(/^urn:uuid:/, '');
      }
      const segments = value.split('?')[0]!.split('/').filter(Boolean);
      const at = segments.lastIndexOf('_history') > 0 ? segments.lastIndexOf('_history') : segments.length;
      const [kind, id] = [segments[at - 2], segments[at - 1]];
      return kind === type && id ? id : undefined;
    },
  };
}
