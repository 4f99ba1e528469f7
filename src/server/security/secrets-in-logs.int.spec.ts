import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../../cli/test-support/run-cli.ts';

describe('secrets in logs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-secrets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a run at debug level never logs the keys or tokens it was given, valid or not', async () => {
    const data = join(dir, 'data');
    const created = await runCli(['keys', 'create', '--name', 'ci', '--role', 'admin', '--data-dir', data]);
    const key = created.stdout.trim();
    const wrongKey = `${key.slice(0, 14)}${'x'.repeat(43)}`;
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.c2VjcmV0LXNpZ25hdHVyZS1vZi1hLXRva2Vu';
    const env = {
      KEEL_AUTH: 'required',
      KEEL_LOG_LEVEL: 'debug',
      KEEL_PORT: '0',
      KEEL_DATA_DIR: data,
      KEEL_SYNC: 'normal',
    };
    const node = spawnCli(['start'], { env, cwd: dir });
    try {
      const line = await node.waitForLine(/^keel listening on /, 60_000);
      const url = /on (http:\/\/\S+)/.exec(line)?.[1] as string;
      const call = (path: string, credential: string, init: RequestInit = {}) =>
        fetch(`${url}${path}`, {
          ...init,
          headers: { authorization: `Bearer ${credential}`, ...init.headers },
        });
      expect((await call('/v1/whoami', key)).status).toBe(200);
      expect((await call('/v1/whoami', wrongKey)).status).toBe(401);
      expect((await call('/v1/whoami', token)).status).toBe(401);
      expect(
        (
          await call('/v1/keys', key, {
            method: 'POST',
            body: '{"name":"x","roles":["admin"]}',
            headers: { 'content-type': 'application/json' },
          })
        ).status,
      ).toBe(201);
      expect((await call('/v1/topics/nope/messages', key)).status).toBe(404);
      const remote = await runCli(['groups', 'list'], { env: { KEEL_URL: url, KEEL_API_KEY: key } });
      expect(remote.status).toBe(0);
    } finally {
      node.child.kill('SIGTERM');
      await node.exited;
    }
    const logs = `${node.stdout()}\n${node.stderr()}`;
    // The run did log: requests at debug level, so an absence below means something.
    expect(logs).toMatch(/incoming request|request completed/);
    for (const secret of [
      key.slice(14),
      wrongKey.slice(14),
      'c2VjcmV0LXNpZ25hdHVyZS1vZi1hLXRva2Vu',
      'Bearer',
    ]) {
      expect(logs.includes(secret), `logs hold ${secret.slice(0, 6)}…`).toBe(false);
    }
  });
});
