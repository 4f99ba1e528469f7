import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from './partitioner.ts';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('partitioner', () => {
  it("hashes keys exactly as Kafka's Java client does", () => {
    // Vectors from Kafka's UtilsTest.testMurmur2.
    expect(murmur2(bytes('21'))).toBe(-973932308);
    expect(murmur2(bytes('foobar'))).toBe(-790332482);
    expect(murmur2(bytes('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(bytes('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(bytes('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    expect(murmur2(bytes('abc'))).toBe(479470107);
  });

  it('maps one key to one partition in range, and spreads many keys over all partitions', () => {
    expect(partitionForKey('patient-123', 12)).toBe(partitionForKey('patient-123', 12));
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const partition = partitionForKey(`patient-${i}`, 12);
      expect(partition).toBeGreaterThanOrEqual(0);
      expect(partition).toBeLessThan(12);
      seen.add(partition);
    }
    expect(seen.size).toBe(12);
  });
});
