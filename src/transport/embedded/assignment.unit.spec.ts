import { describe, expect, it } from 'vitest';
import { assignPartitions, partitionKey } from './assignment.ts';

const owners = (assignment: Map<string, string>): Record<string, string> => Object.fromEntries(assignment);

describe('assignPartitions', () => {
  it('gives every partition to the only member', () => {
    const assignment = assignPartitions(
      [{ memberId: 'm1', topics: ['a', 'b'] }],
      new Map([
        ['a', 2],
        ['b', 1],
      ]),
    );
    expect(owners(assignment)).toEqual({
      [partitionKey('a', 0)]: 'm1',
      [partitionKey('a', 1)]: 'm1',
      [partitionKey('b', 0)]: 'm1',
    });
  });

  it('deals partitions round-robin over members sorted by id, whatever order they are listed in', () => {
    const counts = new Map([['t', 5]]);
    const forward = assignPartitions(
      [
        { memberId: 'b', topics: ['t'] },
        { memberId: 'a', topics: ['t'] },
      ],
      counts,
    );
    const backward = assignPartitions(
      [
        { memberId: 'a', topics: ['t'] },
        { memberId: 'b', topics: ['t'] },
      ],
      counts,
    );
    expect(owners(forward)).toEqual(owners(backward));
    expect([0, 1, 2, 3, 4].map((p) => forward.get(partitionKey('t', p)))).toEqual(['a', 'b', 'a', 'b', 'a']);
  });

  it('balances many one-partition topics across members instead of piling them on the first', () => {
    const topics = ['t1', 't2', 't3', 't4'];
    const assignment = assignPartitions(
      [
        { memberId: 'x', topics },
        { memberId: 'y', topics },
      ],
      new Map(topics.map((t) => [t, 1])),
    );
    const load = [...assignment.values()];
    expect(load.filter((m) => m === 'x')).toHaveLength(2);
    expect(load.filter((m) => m === 'y')).toHaveLength(2);
  });

  it('only gives a topic to members that subscribe to it and keeps the load even', () => {
    const assignment = assignPartitions(
      [
        { memberId: 'a', topics: ['orders', 'payments'] },
        { memberId: 'b', topics: ['orders'] },
      ],
      new Map([
        ['orders', 2],
        ['payments', 2],
      ]),
    );
    expect(assignment.get(partitionKey('payments', 0))).toBe('a');
    expect(assignment.get(partitionKey('payments', 1))).toBe('a');
    expect(assignment.get(partitionKey('orders', 0))).toBe('b');
    expect(assignment.get(partitionKey('orders', 1))).toBe('b');
  });

  it('leaves partitions of topics nobody subscribes to unassigned, and assigns nothing without members', () => {
    expect(assignPartitions([{ memberId: 'a', topics: ['x'] }], new Map([['y', 3]])).size).toBe(0);
    expect(assignPartitions([], new Map([['x', 3]])).size).toBe(0);
  });
});
