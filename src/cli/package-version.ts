import { readFileSync } from 'node:fs';

// src/cli/ sits two levels below the package root, and its build dist/src/cli/ three.
const manifestUrl = new URL(
  import.meta.url.endsWith('.ts') ? '../../package.json' : '../../../package.json',
  import.meta.url,
);

/** Version of the installed keel package, read from its package.json. */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(manifestUrl, 'utf8')) as { version?: string };
  return manifest.version ?? '0.0.0';
}
