import { describe, expect, it } from 'vitest';
import { authModeOf, isLoopback } from './auth-mode.ts';

describe('KEEL_AUTH', () => {
  it('is off by default on loopback and required on any other address', () => {
    for (const host of ['127.0.0.1', '127.8.0.1', 'localhost', '::1', '[::1]']) {
      expect(isLoopback(host), host).toBe(true);
      expect(authModeOf({ host, authOffOnNetwork: false })).toBe('off');
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'keel.internal', '128.0.0.1']) {
      expect(isLoopback(host), host).toBe(false);
      expect(authModeOf({ host, authOffOnNetwork: false })).toBe('required');
    }
  });

  it('refuses off on a network address unless told explicitly', () => {
    expect(() => authModeOf({ host: '0.0.0.0', auth: 'off', authOffOnNetwork: false })).toThrow(
      /KEEL_AUTH: authentication is off while listening on 0\.0\.0\.0.*KEEL_AUTH_OFF_ON_NETWORK=true/,
    );
    expect(authModeOf({ host: '0.0.0.0', auth: 'off', authOffOnNetwork: true })).toBe('off');
    expect(authModeOf({ host: '127.0.0.1', auth: 'required', authOffOnNetwork: false })).toBe('required');
  });
});
