import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from './config-error.ts';
import {
  CONFIG_FILE_ENV,
  CONFIG_FILE_NAMES,
  CONFIG_KEYS,
  type ConfigKey,
  configSchema,
  type KeelConfig,
  type TextKind,
} from './config-schema.ts';

/** Where a setting's value came from. */
export type ConfigSource =
  | { kind: 'default' }
  | { kind: 'file'; file: string }
  | { kind: 'env'; name: string }
  | { kind: 'flag'; name: string };

/** The source of every key's value. */
export type ConfigSources = Readonly<Record<ConfigKey, ConfigSource>>;

/** Settings given on the command line, as text (flags win over everything else). */
export type ConfigFlags = Partial<Record<ConfigKey, string>> & {
  /** Path of the configuration file (`--config`). */
  config?: string;
};

/** Where to read the configuration from; every field defaults to the process's own. */
export interface LoadConfigOptions {
  /** Folder searched for `keel.config.*` and against which relative paths resolve; default `process.cwd()`. */
  cwd?: string;
  /** Environment variables; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Command-line settings. */
  flags?: ConfigFlags;
}

/** A validated configuration and where each value came from. */
export interface LoadedConfig {
  /** The settings; `dataDir` and `catalog` are absolute paths. */
  config: KeelConfig;
  sources: ConfigSources;
  /** Absolute path of the configuration file read, if any. */
  file: string | undefined;
  /** Things worth telling the operator that do not stop the node (e.g. an unknown `KEEL_*` variable). */
  warnings: string[];
}

/** Environment variables Keel reads that are not configuration keys, so they are not reported as unknown. */
const OTHER_KEEL_ENV = new Set([CONFIG_FILE_ENV, 'KEEL_API_KEY', 'KEEL_URL']);

/** Names a key as its source spells it, for messages. */
export function describeKey(key: ConfigKey, source: ConfigSource, cwd = process.cwd()): string {
  switch (source.kind) {
    case 'env':
    case 'flag':
      return source.name;
    case 'file':
      return `${key} (${displayPath(source.file, cwd)})`;
    default:
      return key;
  }
}

/** A path relative to `cwd` when it lies inside it, absolute otherwise (shorter messages, never ambiguous). */
export function displayPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/**
 * Reads `keel.config.(ts|js|mjs|json)` (or the file named by `--config` / `KEEL_CONFIG`), then the
 * `KEEL_*` environment variables, then flags, and validates the result; throws ConfigError naming
 * every wrong key and its source.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const flags = options.flags ?? {};
  const warnings: string[] = [];

  const file = findConfigFile(cwd, env, flags);
  const fromFile = file ? await readConfigFile(file, cwd) : {};

  const input: Record<string, unknown> = {};
  const raw = new Map<string, string>();
  const sources: Record<string, ConfigSource> = {};
  for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) sources[key] = { kind: 'default' };
  for (const [key, value] of Object.entries(fromFile)) {
    input[key] = value;
    if (file) sources[key] = { kind: 'file', file };
  }
  for (const [key, spec] of Object.entries(CONFIG_KEYS) as [ConfigKey, (typeof CONFIG_KEYS)[ConfigKey]][]) {
    const envText = nonEmpty(env[spec.env]);
    if (envText !== undefined) {
      input[key] = fromText(envText, spec.kind);
      raw.set(key, envText);
      sources[key] = { kind: 'env', name: spec.env };
    }
    const flagText = nonEmpty(flags[key]);
    if (flagText !== undefined) {
      input[key] = fromText(flagText, spec.kind);
      raw.set(key, flagText);
      sources[key] = { kind: 'flag', name: spec.flag ?? `--${key}` };
    }
  }
  for (const name of Object.keys(env)) {
    if (name.startsWith('KEEL_') && !OTHER_KEEL_ENV.has(name) && !isKnownEnv(name)) {
      warnings.push(`ignoring unknown environment variable ${name}`);
    }
  }

  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => toConfigIssue(issue, input, raw, sources, file, cwd)),
    );
  }

  // Relative paths in a file are relative to that file, like tsconfig; on the command line and in
  // the environment they are relative to where the command runs.
  const base = (key: ConfigKey) => {
    const source = sources[key];
    return source?.kind === 'file' ? dirname(source.file) : cwd;
  };
  const config: KeelConfig = {
    ...parsed.data,
    dataDir: resolve(base('dataDir'), parsed.data.dataDir),
    catalog: parsed.data.catalog === undefined ? undefined : resolve(base('catalog'), parsed.data.catalog),
    blobDir: parsed.data.blobDir === undefined ? undefined : resolve(base('blobDir'), parsed.data.blobDir),
    phiMasterKeyFile:
      parsed.data.phiMasterKeyFile === undefined
        ? undefined
        : resolve(base('phiMasterKeyFile'), parsed.data.phiMasterKeyFile),
  };
  return { config, sources: sources as ConfigSources, file, warnings };
}

function isKnownEnv(name: string): boolean {
  return Object.values(CONFIG_KEYS).some((spec) => spec.env === name);
}

function nonEmpty(text: string | undefined): string | undefined {
  // An empty variable (`KEEL_PORT=`) means "not set", as shells and env files commonly intend.
  return text === undefined || text.trim() === '' ? undefined : text.trim();
}

/** Turns text into the value type its key expects; text that does not fit is left for the schema to reject. */
function fromText(text: string, kind: TextKind): unknown {
  switch (kind) {
    case 'integer':
      return /^[+-]?\d+$/.test(text) ? Number(text) : text;
    case 'boolean': {
      const lower = text.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(lower)) return true;
      if (['false', '0', 'no', 'off'].includes(lower)) return false;
      return text;
    }
    case 'list':
      return text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    default:
      return text;
  }
}

function findConfigFile(
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
  flags: ConfigFlags,
): string | undefined {
  const named = nonEmpty(flags.config) ?? nonEmpty(env[CONFIG_FILE_ENV]);
  if (named !== undefined) {
    const path = resolve(cwd, named);
    if (!existsSync(path)) {
      const key = nonEmpty(flags.config) !== undefined ? '--config' : CONFIG_FILE_ENV;
      throw new ConfigError([{ key, message: `configuration file not found: ${path}` }]);
    }
    return path;
  }
  const found = CONFIG_FILE_NAMES.map((name) => resolve(cwd, name)).filter((path) => existsSync(path));
  if (found.length > 1) {
    throw new ConfigError([
      {
        key: 'keel.config',
        message: `found ${found.map((path) => displayPath(path, cwd)).join(' and ')}; keep one, or name it with --config`,
      },
    ]);
  }
  return found[0];
}

async function readConfigFile(file: string, cwd: string): Promise<Record<string, unknown>> {
  const shown = displayPath(file, cwd);
  let value: unknown;
  try {
    if (file.endsWith('.json')) {
      value = JSON.parse(readFileSync(file, 'utf8'));
    } else {
      const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      value = module.default ?? module.config;
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigError([{ key: shown, message: `cannot read the configuration file: ${reason}` }]);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const what = file.endsWith('.json') ? 'a JSON object' : 'a default export of the configuration object';
    throw new ConfigError([{ key: shown, message: `expected ${what}` }]);
  }
  return value as Record<string, unknown>;
}

function toConfigIssue(
  issue: z.core.$ZodIssue,
  input: Record<string, unknown>,
  raw: ReadonlyMap<string, string>,
  sources: Readonly<Record<string, ConfigSource>>,
  file: string | undefined,
  cwd: string,
): ConfigIssue {
  if (issue.code === 'unrecognized_keys') {
    const known = Object.keys(CONFIG_KEYS).join(', ');
    return {
      key: file ? displayPath(file, cwd) : 'configuration',
      message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} (known keys: ${known})`,
    };
  }
  const key = String(issue.path[0]) as ConfigKey;
  const source = sources[key] ?? { kind: 'default' };
  let got: unknown = input;
  for (const segment of issue.path)
    got = (got as Record<PropertyKey, unknown> | undefined)?.[segment as PropertyKey];
  // Show the operator's own text for a whole value from the environment or a flag ("abc", not a coerced number).
  const shown = issue.path.length === 1 && raw.has(key) ? raw.get(key) : got;
  return {
    key: describeKey(key, source, cwd),
    message: `${issue.message}, got ${JSON.stringify(shown) ?? 'nothing'}`,
  };
}
