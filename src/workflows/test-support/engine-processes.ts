import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Child, runScript } from '../../test-support/child-process.ts';
import {
  adminConnection,
  dropSchema,
  postgresUrl,
  testSchemaName,
} from '../../test-support/postgres-database.ts';
import type { DatabaseLocation } from './databases.ts';
import type { EffectsLocation } from './effects.ts';
import type { EngineProcessConfig } from './engine-process.ts';

/** A fresh database and effects location for one test: SQLite files in a temp folder, or a PostgreSQL schema. */
export interface Place {
  database: DatabaseLocation;
  effects: EffectsLocation;
  dispose(): Promise<void>;
}

/** Makes a fresh place on the given backend. */
export async function freshPlace(kind: 'sqlite' | 'postgres', label: string): Promise<Place> {
  if (kind === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), `keel-wf-${label}-`));
    return {
      database: { kind: 'sqlite', path: join(dir, 'keel.db') },
      effects: { kind: 'sqlite', path: join(dir, 'effects.db') },
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const schema = testSchemaName(label);
  return {
    database: { kind: 'postgres', url: postgresUrl, schema },
    effects: { kind: 'postgres', url: postgresUrl, schema },
    async dispose() {
      const admin = adminConnection();
      await dropSchema(admin, schema);
      await admin.end();
    },
  };
}

// runScript resolves scripts from the embedded transport's test-support folder.
const ENGINE_SCRIPT = new URL('./engine-process.ts', import.meta.url).href;

/** Engine processes a test spawns; `killAll` SIGKILLs those still alive (for afterEach). */
export interface EngineProcesses {
  spawn(place: Place, config: Omit<EngineProcessConfig, 'database' | 'effects'>): Child;
  /** SIGKILLs a child and waits until it is gone. */
  kill(child: Child): Promise<void>;
  killAll(): void;
}

/** Tracks the engine processes of a test file. */
export function engineProcesses(): EngineProcesses {
  const children: Child[] = [];
  return {
    spawn(place, config) {
      const child = runScript(ENGINE_SCRIPT, [
        JSON.stringify({ ...config, database: place.database, effects: place.effects }),
      ]);
      children.push(child);
      return child;
    },
    async kill(child) {
      child.process.kill('SIGKILL');
      const status = await child.exited;
      if (status !== 'SIGKILL')
        throw new Error(`engine process ended with ${status}, not SIGKILL: ${child.stderr()}`);
    },
    killAll() {
      for (const child of children.splice(0)) child.process.kill('SIGKILL');
    },
  };
}
