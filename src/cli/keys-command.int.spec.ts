import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTempNode, type TempNode } from '../server/test-support/temp-node.ts';
import { runCli } from './test-support/run-cli.ts';

describe('keel keys and the credentials of remote commands', () => {
  let temp: TempNode;
  let dir: string;

  beforeAll(async () => {
    temp = await startTempNode({ config: { auth: 'required' } });
    dir = mkdtempSync(join(tmpdir(), 'keel-keys-cli-'));
  });
  afterAll(async () => {
    await temp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const keel = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, { env: { KEEL_URL: temp.node.url as string, ...env }, timeoutMs: 30_000 });

  it('creates the first admin key on the data folder of a running node, which then accepts it', async () => {
    const created = await keel([
      'keys',
      'create',
      '--name',
      'first-admin',
      '--role',
      'admin',
      '--data-dir',
      temp.dir,
    ]);
    expect(created.stderr).toContain('shown only now');
    expect(created.status).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^keel_[0-9a-f]{8}_/);

    // A remote command without a key is refused with its own exit code; with the key it works.
    const refused = await keel(['groups', 'list']);
    expect(refused.status).toBe(6);
    expect(refused.stderr).toContain('401');
    const allowed = await keel(['groups', 'list', '-o', 'json'], { KEEL_API_KEY: key });
    expect(allowed.stderr).toBe('');
    expect(allowed.status).toBe(0);
    const keyFile = join(dir, 'admin.key');
    writeFileSync(keyFile, `${key}\n`);
    expect((await keel(['groups', 'list', '--key-file', keyFile])).status).toBe(0);

    const listed = await keel(['keys', 'list', '--json', '--data-dir', temp.dir]);
    const records = JSON.parse(listed.stdout) as { prefix: string; name: string }[];
    const prefix = key.slice(5, 13);
    expect(records.map((r) => r.prefix)).toContain(prefix);
    expect(listed.stdout).not.toContain(key.slice(14));

    expect((await keel(['keys', 'revoke', prefix, '--data-dir', temp.dir])).stdout).toBe(
      `revoked ${prefix}\n`,
    );
    // The node remembers a checked key for a second: a revocation from another process counts within it.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await keel(['groups', 'list'], { KEEL_API_KEY: key })).status).toBe(6);
  });

  it('refuses a key whose role a command lacks (exit 4), and bad key options (exit 2)', async () => {
    const created = await keel([
      'keys',
      'create',
      '--name',
      'reader',
      '--role',
      'consumer',
      '--data-dir',
      temp.dir,
    ]);
    const key = created.stdout.trim();
    const reset = await keel(
      ['groups', 'reset', 'g-any', '--topic', 'healthcare.patients.events', '--to', 'earliest'],
      { KEEL_API_KEY: key },
    );
    expect(reset.status).toBe(4);
    expect(reset.stderr).toContain('403');
    expect((await keel(['keys', 'create', '--name', 'x', '--data-dir', temp.dir])).status).toBe(2);
    expect(
      (await keel(['keys', 'create', '--name', 'x', '--role', 'root', '--data-dir', temp.dir])).status,
    ).toBe(2);
    const expires = await keel([
      'keys',
      'create',
      '--name',
      'x',
      '--role',
      'admin',
      '--expires',
      'soon',
      '--data-dir',
      temp.dir,
    ]);
    expect(expires.status).toBe(2);
    expect(expires.stderr).toContain('--expires "soon"');
    expect((await keel(['keys', 'revoke', 'ffffffff', '--data-dir', temp.dir])).stderr).toContain(
      'no API key has the prefix',
    );
  });
});
