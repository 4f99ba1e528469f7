import { isIP } from 'node:net';
import { ConfigError } from '../../config/config-error.ts';
import type { KeelConfig } from '../../config/config-schema.ts';
import { CONFIG_KEYS } from '../../config/config-schema.ts';

/** True for an address only this machine can reach: `localhost`, 127.0.0.0/8, `::1`. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1' || bare === '0:0:0:0:0:0:0:1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

/**
 * Whether the node authenticates: `KEEL_AUTH` when set, else `off` on a loopback address and `required` on any
 * other. Throws ConfigError for `off` on a network address unless `KEEL_AUTH_OFF_ON_NETWORK=true` says so.
 */
export function authModeOf(
  config: Pick<KeelConfig, 'auth' | 'host' | 'authOffOnNetwork'>,
): 'required' | 'off' {
  const loopback = isLoopback(config.host);
  const mode = config.auth ?? (loopback ? 'off' : 'required');
  if (mode === 'off' && !loopback && !config.authOffOnNetwork) {
    throw new ConfigError([
      {
        key: CONFIG_KEYS.auth.env,
        message: `authentication is off while listening on ${config.host}, which other machines can reach: set ${CONFIG_KEYS.auth.env}=required, or ${CONFIG_KEYS.authOffOnNetwork.env}=true to accept that anyone who reaches the port may do anything`,
      },
    ]);
  }
  return mode;
}
