import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteEventStore } from '../../store/sqlite/index.ts';
import { describeWorkflowContract, type WorkflowDatabase } from '../contract/workflow-contract.ts';
import { createSqliteWorkflowBackend } from './sqlite-backend.ts';

// A file, not :memory:: the backend opens its own connection beside the store's, as in production.
describeWorkflowContract('sqlite (file, WAL)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keel-wf-contract-'));
  const path = join(dir, 'keel.db');
  const opened: WorkflowDatabase[] = [];
  const open = (): WorkflowDatabase => {
    // normal: the contract is about behaviour; fsync per commit would only slow it down.
    const db = {
      store: createSqliteEventStore({ path, synchronous: 'normal' }),
      backend: createSqliteWorkflowBackend({ path, synchronous: 'normal' }),
    };
    opened.push(db);
    return db;
  };
  const first = open();
  return {
    ...first,
    connect: async () => open(),
    cleanup: async () => {
      for (const db of opened) {
        await db.backend.close();
        await db.store.close();
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
});
