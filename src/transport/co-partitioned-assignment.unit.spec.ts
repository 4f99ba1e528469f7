import { describe, expect, it } from 'vitest';
import { coPartitionedAssignment } from './co-partitioned-assignment.ts';

const ownerOf = (owners: Array<[string, number, string]>, topic: string, partition: number) =>
  owners.find(([t, p]) => t === topic && p === partition)?.[2];

describe('coPartitionedAssignment', () => {
  it('gives partition i of every topic to one member, and spreads the partition numbers evenly', () => {
    const topics = ['src', 'g.retry.1s', 'g.retry.10s'];
    const owners = coPartitionedAssignment(
      [
        { memberId: 'b', topics },
        { memberId: 'a', topics },
        { memberId: 'c', topics },
      ],
      new Map(topics.map((t) => [t, 6])),
    );
    expect(owners).toHaveLength(18);
    for (let p = 0; p < 6; p++) {
      const owner = ownerOf(owners, 'src', p);
      for (const topic of topics) expect(ownerOf(owners, topic, p)).toBe(owner);
    }
    const load = ['a', 'b', 'c'].map((m) => owners.filter(([, , o]) => o === m).length);
    expect(load).toEqual([6, 6, 6]);
  });

  it('follows a narrower topic within its partitions, and only gives topics to their subscribers', () => {
    const owners = coPartitionedAssignment(
      [
        { memberId: 'a', topics: ['wide', 'narrow', 'own'] },
        { memberId: 'b', topics: ['wide', 'narrow'] },
      ],
      new Map([
        ['wide', 4],
        ['narrow', 2],
        ['own', 1],
      ]),
    );
    expect(ownerOf(owners, 'own', 0)).toBe('a');
    for (const p of [0, 1]) expect(ownerOf(owners, 'narrow', p)).toBe(ownerOf(owners, 'wide', p));
    expect(owners.filter(([t]) => t === 'wide')).toHaveLength(4);
  });
});
