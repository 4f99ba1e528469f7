import { describe, expect, it } from 'vitest';
import { aclEntries, formatAclPlan } from './acl-plan.ts';

describe('aclEntries', () => {
  it('grants WRITE+DESCRIBE to producers, READ+DESCRIBE and the group READ to consumers, DESCRIBE once', () => {
    const entries = aclEntries({
      topic: 't',
      produce: ['User:a'],
      consume: [
        { principal: 'User:a', group: 'g1' },
        { principal: 'User:b', group: 'g2' },
      ],
    });
    expect(entries.map((e) => `${e.principal} ${e.operation} ${e.resource}:${e.name}`)).toEqual([
      'User:a WRITE topic:t',
      'User:a DESCRIBE topic:t',
      'User:a READ topic:t',
      'User:a READ group:g1',
      'User:b READ topic:t',
      'User:b DESCRIBE topic:t',
      'User:b READ group:g2',
    ]);
  });
});

describe('formatAclPlan', () => {
  it('prints creations, deletions and how many are up to date; nothing for no ACLs', () => {
    expect(
      formatAclPlan({
        create: [{ resource: 'topic', name: 't', principal: 'User:a', operation: 'WRITE' }],
        delete: [{ resource: 'topic', name: 't', principal: 'User:b', operation: 'READ' }],
        unchanged: 2,
      }),
    ).toBe('+ allow User:a WRITE on topic t\n- allow User:b READ on topic t\n= 2 ACL(s) up to date\n');
    expect(formatAclPlan({ create: [], delete: [], unchanged: 0 })).toBe('');
  });
});
