import { describe, expect, it } from 'vitest';
import { createSlots } from './slots.ts';

describe('slots', () => {
  it('hand a released slot to the first waiter, never to a caller arriving after it', async () => {
    const slots = createSlots(1);
    const order: string[] = [];
    await slots.acquire();
    const first = slots.acquire().then(() => order.push('first waiter'));
    const second = slots.acquire().then(() => order.push('second waiter'));
    slots.release();
    // Arrives after the release, before the first waiter ran: it queues behind both.
    const late = slots.acquire().then(() => order.push('late caller'));
    await first;
    slots.release();
    await second;
    slots.release();
    await late;
    expect(order).toEqual(['first waiter', 'second waiter', 'late caller']);
  });

  it('never lets more than the limit hold at once', async () => {
    const slots = createSlots(3);
    let holding = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        await slots.acquire();
        holding++;
        most = Math.max(most, holding);
        await new Promise((resolve) => setTimeout(resolve, i % 3));
        holding--;
        slots.release();
      }),
    );
    expect(most).toBe(3);
    expect(holding).toBe(0);
  });
});
