#!/usr/bin/env node
// A local Keycloak (the OpenID Connect provider of the security tests) on loopback, from the server
// distribution on Maven Central (org.keycloak:keycloak-quarkus-dist, fetched once with mvn), with the realm of
// infra/keycloak/keel-realm.json imported at each start.
//
//   node scripts/keycloak.mjs up       start it unless it runs, wait until the realm answers
//   node scripts/keycloak.mjs down     stop it (SIGTERM)
//   node scripts/keycloak.mjs status   exit 1 unless the realm answers
//
// Also a module for tests: ensureKeycloak, stopKeycloak, KEYCLOAK_URL, REALM_ISSUER (types in keycloak.d.mts).
// Plain Node ESM, no dependencies. Keycloak needs Java 21+: JAVA_HOME when it is one, else the newest JDK in
// /usr/lib/jvm. Everything it writes lives in infra/keycloak/.cache/.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const INFRA = path.join(ROOT, 'infra', 'keycloak');
const CACHE = path.join(INFRA, '.cache');
const VERSION = '26.4.7';
const HOME = path.join(CACHE, `keycloak-${VERSION}`);
const REALM_FILE = path.join(INFRA, 'keel-realm.json');
const PID_FILE = path.join(CACHE, 'keycloak.pid');
const LOG_FILE = path.join(CACHE, 'keycloak.log');
const LOCK_FILE = path.join(CACHE, 'up.lock');
const PORT = 18080;
const UP_TIMEOUT_MS = Number(process.env.KEEL_KEYCLOAK_UP_TIMEOUT_MS ?? 240_000);

/** Base URL of the local Keycloak. */
export const KEYCLOAK_URL = `http://127.0.0.1:${PORT}`;
/** Issuer of the tokens of the `keel` realm. */
export const REALM_ISSUER = `${KEYCLOAK_URL}/realms/keel`;

/** True when the realm's discovery document answers. */
export async function keycloakHealthy() {
  try {
    const response = await fetch(`${REALM_ISSUER}/.well-known/openid-configuration`, {
      signal: AbortSignal.timeout(2_000),
    });
    return response.ok;
  } catch {
    return false;
  }
}

/** Starts Keycloak unless it answers already; resolves with its URL and the realm's issuer. */
export async function ensureKeycloak({ quiet = false } = {}) {
  if (await keycloakHealthy()) return { url: KEYCLOAK_URL, issuer: REALM_ISSUER, started: false };
  fs.mkdirSync(CACHE, { recursive: true });
  const lock = await takeLock();
  try {
    if (await keycloakHealthy()) return { url: KEYCLOAK_URL, issuer: REALM_ISSUER, started: false };
    installDistribution(quiet);
    startProcess();
    await waitHealthy();
    return { url: KEYCLOAK_URL, issuer: REALM_ISSUER, started: true };
  } finally {
    fs.closeSync(lock);
    fs.rmSync(LOCK_FILE, { force: true });
  }
}

/** Stops the Keycloak this script started (SIGTERM to its process group). */
export function stopKeycloak() {
  const pid = readPid();
  if (pid === undefined) return false;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
  fs.rmSync(PID_FILE, { force: true });
  return true;
}

async function takeLock() {
  const deadline = Date.now() + UP_TIMEOUT_MS;
  for (;;) {
    try {
      return fs.openSync(LOCK_FILE, 'wx');
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      // A lock older than the start timeout belongs to a run that died.
      const age = Date.now() - fs.statSync(LOCK_FILE, { throwIfNoEntry: false })?.mtimeMs;
      if (age > UP_TIMEOUT_MS) fs.rmSync(LOCK_FILE, { force: true });
      if (Date.now() > deadline) throw new Error(`keycloak: ${LOCK_FILE} held for too long`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

function installDistribution(quiet) {
  if (fs.existsSync(path.join(HOME, 'bin', 'kc.sh'))) return;
  const artifact = `org.keycloak:keycloak-quarkus-dist:${VERSION}:zip`;
  const zip = path.join(
    os.homedir(),
    '.m2',
    'repository',
    'org',
    'keycloak',
    'keycloak-quarkus-dist',
    VERSION,
    `keycloak-quarkus-dist-${VERSION}.zip`,
  );
  if (!fs.existsSync(zip)) {
    if (!quiet) process.stderr.write(`keycloak: fetching ${artifact} with mvn\n`);
    run('mvn', ['-q', 'dependency:get', `-Dartifact=${artifact}`, '-Dtransitive=false']);
  }
  run('unzip', ['-q', '-o', zip, '-d', CACHE]);
}

function run(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 600_000 });
  if (result.status !== 0) {
    const reason = result.error?.message ?? result.stderr?.trim().split('\n').slice(-3).join(' ');
    throw new Error(`keycloak: ${command} ${args.join(' ')} failed: ${reason}`);
  }
}

/** A JDK of version 21 or newer: JAVA_HOME when it is one, else the newest in /usr/lib/jvm. */
function javaHome() {
  const candidates = [process.env.JAVA_HOME, ...jvmFolders()].filter(Boolean);
  for (const home of candidates) {
    const java = path.join(home, 'bin', 'java');
    const probe = spawnSync(java, ['-version'], { encoding: 'utf8' });
    const match = /version "(\d+)/.exec(probe.stderr ?? '');
    if (match && Number(match[1]) >= 21) return home;
  }
  throw new Error('keycloak: needs Java 21 or newer (set JAVA_HOME, or install one under /usr/lib/jvm)');
}

function jvmFolders() {
  const dir = '/usr/lib/jvm';
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((name) => path.join(dir, name))
    .sort()
    .reverse();
}

function startProcess() {
  // A fresh dev database at each start, so the realm is always the file's.
  fs.rmSync(path.join(HOME, 'data'), { recursive: true, force: true });
  fs.mkdirSync(path.join(HOME, 'data', 'import'), { recursive: true });
  fs.copyFileSync(REALM_FILE, path.join(HOME, 'data', 'import', 'keel-realm.json'));
  const out = fs.openSync(LOG_FILE, 'w');
  const child = spawn(
    path.join(HOME, 'bin', 'kc.sh'),
    [
      'start-dev',
      '--import-realm',
      `--http-port=${PORT}`,
      '--http-host=127.0.0.1',
      '--hostname-strict=false',
      '--http-management-port=18081',
    ],
    {
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, JAVA_HOME: javaHome(), JAVA_OPTS_KC_HEAP: '-Xms128m -Xmx512m' },
    },
  );
  child.unref();
  fs.writeFileSync(PID_FILE, String(child.pid));
}

async function waitHealthy() {
  const deadline = Date.now() + UP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await keycloakHealthy()) return;
    const pid = readPid();
    if (pid === undefined || !alive(pid)) break;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  const tail = fs.existsSync(LOG_FILE)
    ? fs.readFileSync(LOG_FILE, 'utf8').split('\n').slice(-15).join('\n')
    : '';
  throw new Error(`keycloak: not answering at ${REALM_ISSUER} (log ${LOG_FILE}):\n${tail}`);
}

function readPid() {
  const text = fs.existsSync(PID_FILE) ? fs.readFileSync(PID_FILE, 'utf8').trim() : '';
  return text === '' ? undefined : Number(text);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const command = process.argv[2];
  if (command === 'up') {
    const result = await ensureKeycloak();
    process.stdout.write(`keycloak: ${result.started ? 'started' : 'running'} at ${result.issuer}\n`);
  } else if (command === 'down') {
    process.stdout.write(stopKeycloak() ? 'keycloak: stopped\n' : 'keycloak: not started here\n');
  } else if (command === 'status') {
    const healthy = await keycloakHealthy();
    process.stdout.write(`keycloak: ${healthy ? 'healthy' : 'not answering'} (${REALM_ISSUER})\n`);
    process.exit(healthy ? 0 : 1);
  } else {
    process.stderr.write('usage: node scripts/keycloak.mjs up|down|status\n');
    process.exit(2);
  }
}
