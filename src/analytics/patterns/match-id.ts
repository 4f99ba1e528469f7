import { createHash } from 'node:crypto';

/**
 * The id of a match, derived from the rule and the ids of the events that made it (SHA-256 shaped as a
 * version-8 UUID): replaying the same events after a crash gives the same id, so a consumer that dedupes by
 * event id sees each match once.
 */
export function matchId(rule: string, eventIds: readonly string[]): string {
  const hex = createHash('sha256')
    .update(`${rule}\n${eventIds.join('\n')}`)
    .digest('hex');
  const variant = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
