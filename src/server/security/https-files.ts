import { readFileSync } from 'node:fs';
import { ConfigError } from '../../config/config-error.ts';
import { CONFIG_KEYS, type KeelConfig } from '../../config/config-schema.ts';
import { type ConfigSources, describeKey } from '../../config/load-config.ts';

/**
 * The certificate and key the node serves HTTPS with, read before anything opens; none configured: HTTP.
 * Throws ConfigError when only one is set or a file cannot be read (the key's content is never shown).
 */
export function httpsOf(
  config: KeelConfig,
  sources: ConfigSources | undefined,
): { https?: { cert: Buffer; key: Buffer } } {
  const { tlsCertFile, tlsKeyFile } = config;
  if (tlsCertFile === undefined && tlsKeyFile === undefined) return {};
  // A key that was never set is named by its environment variable, where operators set it.
  const name = (key: 'tlsCertFile' | 'tlsKeyFile') =>
    sources === undefined || sources[key].kind === 'default'
      ? CONFIG_KEYS[key].env
      : describeKey(key, sources[key]);
  if (tlsCertFile === undefined || tlsKeyFile === undefined) {
    const missing = tlsCertFile === undefined ? 'tlsCertFile' : 'tlsKeyFile';
    const other = missing === 'tlsCertFile' ? 'tlsKeyFile' : 'tlsCertFile';
    throw new ConfigError([{ key: name(missing), message: `required with ${name(other)} to serve HTTPS` }]);
  }
  const read = (key: 'tlsCertFile' | 'tlsKeyFile', path: string, marker: RegExp) => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError([{ key: name(key), message: `cannot read ${path} (${reason})` }]);
    }
    if (!marker.test(text))
      throw new ConfigError([{ key: name(key), message: `${path} is not a PEM file of the expected kind` }]);
    return Buffer.from(text);
  };
  return {
    https: {
      cert: read('tlsCertFile', tlsCertFile, /-----BEGIN CERTIFICATE-----/),
      key: read('tlsKeyFile', tlsKeyFile, /-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/),
    },
  };
}
