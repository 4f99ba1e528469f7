import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import type { CloudEvent } from '../events/cloud-event.ts';
import { compileEventFilter } from './event-filter.ts';
import { signWebhook } from './signature.ts';

const event = (extra: Partial<CloudEvent> = {}): CloudEvent => ({
  specversion: '1.0',
  id: 'e-1',
  source: 'urn:a',
  type: 'healthcare.patient.updated',
  tenantid: 'north',
  data: { patientId: 'p-1', changes: { n: 3 } },
  ...extra,
});

describe('a subscription filter', () => {
  it('matches on type, tenant and source exactly, then on the CEL condition', () => {
    const matches = compileEventFilter({
      types: ['healthcare.patient.updated'],
      tenant: 'north',
      source: 'urn:a',
      condition: "data.patientId == 'p-1' && event.tenantid == 'north'",
    });
    expect(matches(event())).toBe(true);
    expect(matches(event({ type: 'healthcare.patient.created' }))).toBe(false);
    expect(matches(event({ tenantid: 'south' }))).toBe(false);
    expect(matches(event({ source: 'urn:b' }))).toBe(false);
    expect(matches(event({ data: { patientId: 'p-2', changes: {} } }))).toBe(false);
  });

  it('does not match an event on which the condition cannot be evaluated (a missing field)', () => {
    const matches = compileEventFilter({ condition: 'data.missing.deeper == 1' });
    expect(matches(event())).toBe(false);
    expect(compileEventFilter({})(event())).toBe(true);
  });
});

describe('the Standard Webhooks signature', () => {
  it('verifies with the standardwebhooks package and fails with another secret or another body', () => {
    const secret = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    const body = new TextEncoder().encode('{"patientId":"p-1"}');
    const now = Math.floor(Date.now() / 1000);
    const headers = signWebhook(secret, 'msg-1', now, body);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify('{"patientId":"p-1"}', { ...headers })).toEqual({ patientId: 'p-1' });
    expect(() => new Webhook(secret).verify('{"patientId":"p-2"}', { ...headers })).toThrow();
    const other = `whsec_${Buffer.alloc(32, 8).toString('base64')}`;
    expect(() => new Webhook(other).verify('{"patientId":"p-1"}', { ...headers })).toThrow();
  });
});
