import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decodeCursor, encodeCursor, pageOfList } from './pagination.ts';

const items = ['a', 'b', 'c', 'd', 'e'];
const key = (item: string) => item;

describe('pageOfList', () => {
  it('pages through a list with opaque cursors, null after the last page', () => {
    const first = pageOfList(items, key, { limit: 2 });
    expect(first.items).toEqual(['a', 'b']);
    const second = pageOfList(items, key, { limit: 2, cursor: first.next ?? '' });
    expect(second.items).toEqual(['c', 'd']);
    const third = pageOfList(items, key, { limit: 2, cursor: second.next ?? '' });
    expect(third).toEqual({ items: ['e'], next: null });
  });

  it('continues after the cursor item even when that item left the list', () => {
    const first = pageOfList(items, key, { limit: 2 });
    expect(pageOfList(['a', 'c', 'd'], key, { limit: 2, cursor: first.next ?? '' }).items).toEqual([
      'c',
      'd',
    ]);
    const down = pageOfList(['e', 'd', 'c', 'b'], key, { limit: 1, descending: true });
    expect(
      pageOfList(['e', 'c', 'b'], key, { limit: 5, cursor: down.next ?? '', descending: true }).items,
    ).toEqual(['c', 'b']);
  });

  it('refuses a cursor it did not make, naming query.cursor', () => {
    expect(() => pageOfList(items, key, { limit: 2, cursor: 'not-a-cursor' })).toThrow(
      expect.objectContaining({ issues: [expect.objectContaining({ path: 'query.cursor' })] }),
    );
    expect(() => decodeCursor(z.strictObject({ n: z.int() }), encodeCursor({ n: 'x' }))).toThrow(
      /query\.cursor/,
    );
  });
});
