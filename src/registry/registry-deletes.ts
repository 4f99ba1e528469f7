import {
  ReferenceExistsError,
  SubjectNotFoundError,
  SubjectNotSoftDeletedError,
  VersionNotSoftDeletedError,
} from './errors.ts';
import type { RegistryStorage, StoredVersion } from './registry-storage.ts';

/** Finds a version (soft-deleted ones too when `deleted`), throwing the registry's not-found errors. */
type FindVersion = (subject: string, spec: number | 'latest', deleted: boolean) => Promise<StoredVersion>;

/** Soft and hard deletion of versions and subjects, refused while another schema references them. */
export function createRegistryDeletes(
  storage: RegistryStorage,
  findVersion: FindVersion,
  assertWritable: (subject: string) => Promise<void>,
) {
  const assertUnreferenced = async (subject: string, version: number): Promise<void> => {
    const users = await storage.referencedBy(subject, version);
    if (users.length > 0) {
      throw new ReferenceExistsError(
        subject,
        version,
        users.map((u) => `${u.subject} version ${u.version}`),
      );
    }
  };
  return {
    deleteVersion: async (subject: string, spec: number | 'latest', options?: { permanent?: boolean }) => {
      await assertWritable(subject);
      const permanent = options?.permanent === true;
      const target = await findVersion(subject, spec, permanent);
      if (permanent && !target.deleted) throw new VersionNotSoftDeletedError(subject, target.version);
      await assertUnreferenced(subject, target.version);
      await storage.deleteVersions(subject, [target.version], permanent);
      return target.version;
    },
    deleteSubject: async (subject: string, options?: { permanent?: boolean }) => {
      await assertWritable(subject);
      const permanent = options?.permanent === true;
      const versions = await storage.versions(subject, permanent);
      if (versions.length === 0) throw new SubjectNotFoundError(subject);
      if (permanent && versions.some((v) => !v.deleted)) throw new SubjectNotSoftDeletedError(subject);
      for (const version of versions) await assertUnreferenced(subject, version.version);
      const numbers = versions.map((v) => v.version);
      await storage.deleteVersions(subject, numbers, permanent);
      return numbers;
    },
  };
}
