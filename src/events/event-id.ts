import { randomFillSync } from 'node:crypto';

// Random bytes are drawn in blocks: one CSPRNG call per id costs more than the rest of the id.
const POOL_IDS = 512;
const pool = new Uint8Array(POOL_IDS * 10);
let poolOffset = pool.length;
let lastMs = -1;
let counter = 0;
const hex = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A new event id: a UUIDv7 (RFC 9562) whose 48-bit millisecond timestamp is followed by a 12-bit
 * counter seeded randomly each millisecond (method 1), so ids made by one process sort in creation order.
 */
export function newEventId(): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const random = pool.subarray(poolOffset, poolOffset + 10);
  poolOffset += 10;
  let ms = Date.now();
  if (ms > lastMs) {
    lastMs = ms;
    counter = ((random[0]! << 8) | random[1]!) & 0x7ff; // top bit clear leaves room to count up
  } else {
    ms = lastMs;
    counter++;
    if (counter > 0xfff) {
      // 4,096 ids in one millisecond: borrow the next millisecond rather than repeat or reorder.
      lastMs = ++ms;
      counter = 0;
    }
  }
  const b = new Uint8Array(16);
  b[0] = ms / 2 ** 40;
  b[1] = ms / 2 ** 32;
  b[2] = ms >>> 24;
  b[3] = ms >>> 16;
  b[4] = ms >>> 8;
  b[5] = ms;
  b[6] = 0x70 | (counter >>> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (random[2]! & 0x3f);
  b.set(random.subarray(3, 10), 9);
  const h = (i: number) => hex[b[i]!]!;
  return `${h(0)}${h(1)}${h(2)}${h(3)}-${h(4)}${h(5)}-${h(6)}${h(7)}-${h(8)}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`;
}
