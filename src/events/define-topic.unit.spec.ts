import { describe, expect, it } from 'vitest';
import { defineTopic } from './define-topic.ts';

describe('defineTopic access', () => {
  it('keeps who may produce and consume, frozen; no access leaves the ACLs alone', () => {
    const topic = defineTopic({
      name: 'patients',
      events: [],
      access: { produce: ['User:admissions'], consume: [{ principal: 'User:billing', group: 'billing' }] },
    });
    expect(topic.access).toEqual({
      produce: ['User:admissions'],
      consume: [{ principal: 'User:billing', group: 'billing' }],
    });
    expect(Object.isFrozen(topic.access?.consume[0])).toBe(true);
    expect(defineTopic({ name: 'audit', events: [] }).access).toBeUndefined();
    expect(defineTopic({ name: 'audit', events: [], access: {} }).access).toEqual({
      produce: [],
      consume: [],
    });
  });

  it.each([
    [
      { produce: ['admissions'] },
      'access.produce[0] must be a principal like "User:billing", got "admissions"',
    ],
    [{ produce: ['User: x'] }, 'access.produce[0] must be a principal'],
    [{ consume: [{ principal: 'billing', group: 'g' }] }, 'access.consume[0].principal must be a principal'],
    [
      { consume: [{ principal: 'User:billing', group: ' ' }] },
      'access.consume[0].group must be a consumer group id',
    ],
  ])('refuses %j naming the entry', (access, message) => {
    expect(() => defineTopic({ name: 'patients', events: [], access })).toThrow(
      `defineTopic(patients): ${message}`,
    );
  });
});
