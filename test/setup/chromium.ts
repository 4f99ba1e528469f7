import { spawnSync } from 'node:child_process';

/** Where the Debian package `chromium` puts the browser the console's tests drive. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Vitest global setup: the console's browser tests drive real Chromium (Debian's package) with
 * playwright-core, which downloads no browser. On a fresh machine it is installed here with apt-get, once.
 */
export function setup(): void {
  if (spawnSync(CHROMIUM, ['--version'], { stdio: 'ignore' }).status === 0) return;
  process.stderr.write('chromium: not found, installing it with apt-get (Debian package chromium)\n');
  const apt = (args: string[]) =>
    spawnSync('apt-get', args, {
      encoding: 'utf8',
      timeout: 600_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  const update = apt(['update']);
  const install = update.status === 0 ? apt(['install', '-y', 'chromium']) : update;
  if (install.status !== 0 || spawnSync(CHROMIUM, ['--version'], { stdio: 'ignore' }).status !== 0) {
    const reason = install.error?.message ?? install.stderr?.trim().split('\n').slice(-3).join(' ');
    throw new Error(
      `The console's browser tests need Chromium, and installing it failed (apt-get update && apt-get install -y chromium, as root): ${reason}`,
    );
  }
}
