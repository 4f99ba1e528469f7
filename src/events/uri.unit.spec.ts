import { describe, expect, it } from 'vitest';
import { isAbsoluteUri, isUriReference } from './uri.ts';

describe('URIs (RFC 3986)', () => {
  it('tells absolute URIs from relative references', () => {
    expect(isAbsoluteUri('https://example.com/a?b')).toBe(true);
    expect(isAbsoluteUri('urn:keel:schema:a.b:2')).toBe(true);
    expect(isAbsoluteUri('/a')).toBe(false);
    expect(isUriReference('/a')).toBe(true);
  });

  it('refuses a fragment in an absolute URI (section 4.3) but not in a reference', () => {
    expect(isAbsoluteUri('https://example.com/a#b')).toBe(false);
    expect(isUriReference('https://example.com/a#b')).toBe(true);
  });

  it('checks IP literals', () => {
    expect(isUriReference('http://[::ffff:192.0.2.1]/')).toBe(true);
    expect(isUriReference('http://[v1.fe80::a+en1]/')).toBe(true);
    expect(isUriReference('http://[fe80::1%25eth0]/')).toBe(false);
    expect(isUriReference('http://[1:2:3]/')).toBe(false);
  });

  it('accepts the empty reference, which is why source also needs a length check', () => {
    expect(isUriReference('')).toBe(true);
    expect(isAbsoluteUri('')).toBe(false);
  });
});
