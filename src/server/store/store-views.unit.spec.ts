import { describe, expect, it } from 'vitest';
import { storedEventView } from './store-views.ts';

describe('storedEventView', () => {
  it('shows binary data as data_base64, as the JSON format carries it, and positions as digits', () => {
    const view = storedEventView({
      event: { specversion: '1.0', id: 'e-1', source: '/s', type: 't', data: new Uint8Array([255, 0]) },
      streamId: 's-1',
      version: 1,
      position: 9_007_199_254_740_993n,
      tenantId: 'default',
      recordedAt: new Date('2026-01-01T00:00:00Z'),
      checkpoint: '9007199254740993',
    });
    expect(view.event).toEqual({
      specversion: '1.0',
      id: 'e-1',
      source: '/s',
      type: 't',
      data_base64: '/wA=',
    });
    expect(view.position).toBe('9007199254740993');
    expect(view.recordedAt).toBe('2026-01-01T00:00:00.000Z');
  });
});
