import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { loadConfig } from './load-config.ts';

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'keel-config-'));
});
afterEach(() => {
  rmSync(cwd, { recursive: true, force: true });
});

/** The ConfigError message of a load that must fail. */
async function failure(options: Parameters<typeof loadConfig>[0]): Promise<string> {
  const error = await loadConfig(options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).code).toBe('KEEL_CONFIG');
  return (error as ConfigError).message;
}

describe('loadConfig defaults', () => {
  it('applies every default when nothing is configured', async () => {
    const { config, file, sources, warnings } = await loadConfig({ cwd, env: {} });
    expect(config).toEqual({
      port: 4000,
      host: '127.0.0.1',
      dataDir: join(cwd, '.keel'),
      transport: 'embedded',
      store: 'sqlite',
      postgresSchema: 'keel',
      maxEventBytes: 1048576,
      blobS3ForcePathStyle: false,
      blobSweepIntervalMs: 60_000,
      allowUntyped: false,
      logLevel: 'info',
      sync: 'full',
      idempotencyRetentionMs: 86_400_000,
      exportEnabled: true,
      phiRead: false,
      authOffOnNetwork: false,
      oidcAudience: 'keel-api',
      oidcRolesClaim: 'roles',
      oidcTenantsClaim: 'tenants',
      auditTopic: 'keel.audit',
      rateLimit: 100,
      rateLimitBurst: 1000,
    });
    expect(file).toBeUndefined();
    expect(sources.port).toEqual({ kind: 'default' });
    expect(warnings).toEqual([]);
  });
});

describe('loadConfig environment variables', () => {
  it.each([
    ['KEEL_PORT', '8080', 'port', 8080],
    ['KEEL_PORT', '0', 'port', 0],
    ['KEEL_HOST', '0.0.0.0', 'host', '0.0.0.0'],
    ['KEEL_DATA_DIR', 'var/keel', 'dataDir', '<cwd>/var/keel'],
    ['KEEL_DATA_DIR', '/srv/keel', 'dataDir', '/srv/keel'],
    ['KEEL_TRANSPORT', 'kafka', 'transport', 'kafka'],
    [
      'KEEL_KAFKA_BROKERS',
      '127.0.0.1:19092, 127.0.0.1:29092',
      'kafkaBrokers',
      ['127.0.0.1:19092', '127.0.0.1:29092'],
    ],
    ['KEEL_STORE', 'postgres', 'store', 'postgres'],
    [
      'KEEL_POSTGRES_URL',
      'postgres://postgres@127.0.0.1:5432/test',
      'postgresUrl',
      'postgres://postgres@127.0.0.1:5432/test',
    ],
    ['KEEL_CATALOG', './domains/catalog.ts', 'catalog', '<cwd>/domains/catalog.ts'],
    ['KEEL_MAX_EVENT_BYTES', '2048', 'maxEventBytes', 2048],
    ['KEEL_CLAIM_CHECK_BYTES', '524288', 'claimCheckBytes', 524_288],
    ['KEEL_BLOB_DIR', 'var/blobs', 'blobDir', '<cwd>/var/blobs'],
    ['KEEL_BLOB_SWEEP_INTERVAL_MS', '5000', 'blobSweepIntervalMs', 5_000],
    ['KEEL_BLOB_S3_BUCKET', 'keel-blobs', 'blobS3Bucket', 'keel-blobs'],
    ['KEEL_BLOB_S3_ENDPOINT', 'http://127.0.0.1:9000', 'blobS3Endpoint', 'http://127.0.0.1:9000'],
    ['KEEL_BLOB_S3_REGION', 'eu-west-1', 'blobS3Region', 'eu-west-1'],
    ['KEEL_BLOB_S3_FORCE_PATH_STYLE', 'true', 'blobS3ForcePathStyle', true],
    ['KEEL_ALLOW_UNTYPED', 'true', 'allowUntyped', true],
    ['KEEL_ALLOW_UNTYPED', '1', 'allowUntyped', true],
    ['KEEL_ALLOW_UNTYPED', 'no', 'allowUntyped', false],
    ['KEEL_LOG_LEVEL', 'debug', 'logLevel', 'debug'],
    ['KEEL_SYNC', 'normal', 'sync', 'normal'],
    ['KEEL_IDEMPOTENCY_RETENTION_MS', '3600000', 'idempotencyRetentionMs', 3_600_000],
    ['KEEL_IDEMPOTENCY_RETENTION_MS', '0', 'idempotencyRetentionMs', 0],
    ['KEEL_EXPORT_ENABLED', 'false', 'exportEnabled', false],
    ['KEEL_PHI_READ', 'true', 'phiRead', true],
    ['KEEL_PHI_MASTER_KEY', 'a'.repeat(64), 'phiMasterKey', 'a'.repeat(64)],
    ['KEEL_PHI_MASTER_KEY_FILE', 'secrets/master.key', 'phiMasterKeyFile', '<cwd>/secrets/master.key'],
    ['KEEL_POSTGRES_SCHEMA', 'clinic_a', 'postgresSchema', 'clinic_a'],
  ] as const)('%s=%s sets %s', async (name, text, key, expected) => {
    const { config, sources } = await loadConfig({ cwd, env: { [name]: text } });
    const want = typeof expected === 'string' ? expected.replace('<cwd>', cwd) : expected;
    expect(config[key]).toEqual(want);
    expect(sources[key]).toEqual({ kind: 'env', name });
  });

  it.each([
    ['KEEL_PORT', 'abc', 'KEEL_PORT: expected an integer between 0 and 65535, got "abc"'],
    ['KEEL_PORT', '70000', 'KEEL_PORT: expected an integer between 0 and 65535, got "70000"'],
    ['KEEL_PORT', '-1', 'KEEL_PORT: expected an integer between 0 and 65535, got "-1"'],
    ['KEEL_PORT', '80.5', 'KEEL_PORT: expected an integer between 0 and 65535, got "80.5"'],
    ['KEEL_TRANSPORT', 'rabbitmq', 'KEEL_TRANSPORT: expected "embedded" or "kafka", got "rabbitmq"'],
    [
      'KEEL_KAFKA_BROKERS',
      'a:1,b',
      'KEEL_KAFKA_BROKERS: expected a comma-separated list of host:port, got "b"',
    ],
    ['KEEL_STORE', 'mysql', 'KEEL_STORE: expected "sqlite" or "postgres", got "mysql"'],
    [
      'KEEL_POSTGRES_URL',
      'mysql://x',
      'KEEL_POSTGRES_URL: expected a postgres:// connection string, got "mysql://x"',
    ],
    [
      'KEEL_MAX_EVENT_BYTES',
      '0',
      'KEEL_MAX_EVENT_BYTES: expected an integer number of bytes between 1 and 67108864',
    ],
    ['KEEL_MAX_EVENT_BYTES', '1MiB', 'KEEL_MAX_EVENT_BYTES: expected an integer number of bytes'],
    ['KEEL_ALLOW_UNTYPED', 'maybe', 'KEEL_ALLOW_UNTYPED: expected true or false, got "maybe"'],
    [
      'KEEL_LOG_LEVEL',
      'loud',
      'KEEL_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ],
    ['KEEL_SYNC', 'off', 'KEEL_SYNC: expected "full" or "normal", got "off"'],
  ])('rejects %s=%s naming the variable and the rule', async (name, text, message) => {
    expect(await failure({ cwd, env: { [name]: text } })).toContain(message);
  });

  it('reports every wrong variable on one line', async () => {
    const message = await failure({ cwd, env: { KEEL_PORT: 'abc', KEEL_SYNC: 'off' } });
    expect(message).not.toContain('\n');
    expect(message).toMatch(/^KEEL_PORT: .*; KEEL_SYNC: /);
  });

  it('treats an empty variable as unset', async () => {
    const { config, sources } = await loadConfig({ cwd, env: { KEEL_PORT: '', KEEL_HOST: '  ' } });
    expect(config.port).toBe(4000);
    expect(config.host).toBe('127.0.0.1');
    expect(sources.port).toEqual({ kind: 'default' });
  });

  it('warns about an unknown KEEL_ variable, which is likely a typo', async () => {
    const { warnings } = await loadConfig({ cwd, env: { KEEL_PROT: '1', KEEL_CONFIG: '', HOME: '/root' } });
    expect(warnings).toEqual(['ignoring unknown environment variable KEEL_PROT']);
  });
});

describe('loadConfig file', () => {
  it('reads keel.config.json from the working directory; the environment wins over it', async () => {
    writeFileSync(
      join(cwd, 'keel.config.json'),
      JSON.stringify({ port: 5000, host: '0.0.0.0', sync: 'normal' }),
    );
    const { config, sources, file } = await loadConfig({ cwd, env: { KEEL_PORT: '6000' } });
    expect(file).toBe(join(cwd, 'keel.config.json'));
    expect(config.port).toBe(6000);
    expect(sources.port).toEqual({ kind: 'env', name: 'KEEL_PORT' });
    expect(config.host).toBe('0.0.0.0');
    expect(config.sync).toBe('normal');
    expect(sources.host).toEqual({ kind: 'file', file: join(cwd, 'keel.config.json') });
  });

  it('lets flags win over the environment and the file', async () => {
    writeFileSync(join(cwd, 'keel.config.json'), JSON.stringify({ port: 5000, dataDir: 'from-file' }));
    const { config, sources } = await loadConfig({
      cwd,
      env: { KEEL_PORT: '6000', KEEL_DATA_DIR: 'from-env' },
      flags: { port: '7000', dataDir: 'from-flag' },
    });
    expect(config.port).toBe(7000);
    expect(config.dataDir).toBe(join(cwd, 'from-flag'));
    expect(sources.port).toEqual({ kind: 'flag', name: '--port' });
  });

  it('names a bad flag by its flag', async () => {
    expect(await failure({ cwd, env: {}, flags: { port: 'x' } })).toBe(
      '--port: expected an integer between 0 and 65535, got "x"',
    );
  });

  it.each([
    ['keel.config.ts', 'const config: { port: number } = { port: 5101 };\nexport default config;\n'],
    ['keel.config.mjs', 'export default { port: 5102 };\n'],
    ['keel.config.js', 'export const config = { port: 5103 };\n'],
  ])('reads %s', async (name, source) => {
    writeFileSync(join(cwd, 'package.json'), '{"type":"module"}');
    writeFileSync(join(cwd, name), source);
    const { config, file } = await loadConfig({ cwd, env: {} });
    expect(file).toBe(join(cwd, name));
    expect(config.port).toBe(Number(/port: (\d+)/.exec(source)?.[1]));
  });

  it('names a bad value in the file by key and file', async () => {
    writeFileSync(join(cwd, 'keel.config.json'), JSON.stringify({ port: 'abc', maxEventBytes: 12.5 }));
    const message = await failure({ cwd, env: {} });
    expect(message).toContain('port (keel.config.json): expected an integer between 0 and 65535, got "abc"');
    expect(message).toContain('maxEventBytes (keel.config.json): expected an integer number of bytes');
    expect(message).toContain('got 12.5');
  });

  it('rejects unknown keys in the file, listing the known ones', async () => {
    writeFileSync(join(cwd, 'keel.config.json'), JSON.stringify({ prot: 5000 }));
    const message = await failure({ cwd, env: {} });
    expect(message).toMatch(/^keel\.config\.json: unknown key "prot" \(known keys: port, host, dataDir/);
  });

  it('rejects malformed JSON naming the file', async () => {
    writeFileSync(join(cwd, 'keel.config.json'), '{ "port": ');
    expect(await failure({ cwd, env: {} })).toMatch(
      /^keel\.config\.json: cannot read the configuration file: /,
    );
  });

  it('rejects a file that is not an object', async () => {
    writeFileSync(join(cwd, 'keel.config.json'), '[1]');
    expect(await failure({ cwd, env: {} })).toBe('keel.config.json: expected a JSON object');
  });

  it('refuses to guess between two configuration files', async () => {
    writeFileSync(join(cwd, 'keel.config.json'), '{}');
    writeFileSync(join(cwd, 'keel.config.mjs'), 'export default {};');
    expect(await failure({ cwd, env: {} })).toContain('found keel.config.mjs and keel.config.json; keep one');
  });

  it('reads the file named by KEEL_CONFIG, resolving its relative paths against its folder', async () => {
    mkdirSync(join(cwd, 'conf'));
    writeFileSync(join(cwd, 'conf', 'node.json'), JSON.stringify({ dataDir: 'data', catalog: './cat.ts' }));
    const { config, file } = await loadConfig({ cwd, env: { KEEL_CONFIG: 'conf/node.json' } });
    expect(file).toBe(join(cwd, 'conf', 'node.json'));
    expect(config.dataDir).toBe(join(cwd, 'conf', 'data'));
    expect(config.catalog).toBe(join(cwd, 'conf', 'cat.ts'));
  });

  it('lets --config win over KEEL_CONFIG', async () => {
    writeFileSync(join(cwd, 'a.json'), JSON.stringify({ port: 1111 }));
    writeFileSync(join(cwd, 'b.json'), JSON.stringify({ port: 2222 }));
    const { config } = await loadConfig({ cwd, env: { KEEL_CONFIG: 'a.json' }, flags: { config: 'b.json' } });
    expect(config.port).toBe(2222);
  });

  it('names the setting that points to a missing file', async () => {
    expect(await failure({ cwd, env: { KEEL_CONFIG: 'nope.json' } })).toBe(
      `KEEL_CONFIG: configuration file not found: ${join(cwd, 'nope.json')}`,
    );
    expect(await failure({ cwd, env: {}, flags: { config: 'nope.json' } })).toMatch(/^--config: /);
  });
});
