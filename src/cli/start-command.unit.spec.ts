import { describe, expect, it } from 'vitest';
import { startupLine } from './start-command.ts';

describe('keel start: the startup line', () => {
  const url = 'http://127.0.0.1:3000';
  it('names the data file on the embedded transport', () => {
    expect(
      startupLine({ url, dataFile: '/d/keel.db', transport: { name: 'embedded' } } as never, 'c.ts'),
    ).toBe('keel listening on http://127.0.0.1:3000 (transport embedded, data /d/keel.db, catalog c.ts)');
  });
  it('names the brokers on Kafka', () => {
    const node = { url, dataFile: '/d/keel.db', transport: { name: 'kafka' } } as never;
    expect(startupLine(node, 'c.ts', ['a:9092', 'b:9092'])).toBe(
      'keel listening on http://127.0.0.1:3000 (transport kafka, brokers a:9092,b:9092, catalog c.ts)',
    );
  });
});
