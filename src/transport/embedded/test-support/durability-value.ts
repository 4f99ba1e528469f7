const encoder = new TextEncoder();

/** The ~500-byte value the durability test writes for event `id`; the parent recomputes it to check integrity. */
export function durabilityValue(id: number): Uint8Array {
  const seed = `event ${id} `;
  return encoder.encode(seed.repeat(Math.ceil(500 / seed.length)).slice(0, 500));
}
