/** One string naming a topic's partition, as a map key. */
export function partitionId(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** The topic and partition a `partitionId` names. */
export function partitionOfId(id: string): { topic: string; partition: number } {
  const at = id.lastIndexOf('\u0000');
  return { topic: id.slice(0, at), partition: Number(id.slice(at + 1)) };
}
