import { definitionKey } from './backend.ts';
import type { WorkflowDefinition } from './define-workflow.ts';
import { UnknownWorkflowError, WorkflowVersionConflictError } from './errors.ts';

/** Every definition version an engine knows: instances run on the version they started with. */
export interface WorkflowRegistry {
  /** Adds a definition version; the same object again is a no-op, another one under its id and version throws. */
  register(definition: WorkflowDefinition): void;
  /** The exact version; throws UnknownWorkflowError. */
  get(workflowId: string, version: number): WorkflowDefinition;
  /** The exact version, or undefined. */
  find(workflowId: string, version: number): WorkflowDefinition | undefined;
  /** The newest registered version of a workflow; throws UnknownWorkflowError. */
  latest(workflowId: string): WorkflowDefinition;
  /** Every registered version, oldest first per workflow. */
  all(): WorkflowDefinition[];
  /** `<id>@<version>` of every registered version: what this engine can run. */
  keys(): string[];
}

/** Creates an empty registry. */
export function createWorkflowRegistry(): WorkflowRegistry {
  const byKey = new Map<string, WorkflowDefinition>();
  const newest = new Map<string, WorkflowDefinition>();
  return {
    register(definition) {
      if (definition?.kind !== 'workflow') throw new TypeError('register: not a defineWorkflow() definition');
      const key = definitionKey(definition.id, definition.version);
      const known = byKey.get(key);
      if (known === definition) return;
      if (known !== undefined) throw new WorkflowVersionConflictError(definition.id, definition.version);
      byKey.set(key, definition);
      const current = newest.get(definition.id);
      if (current === undefined || current.version < definition.version)
        newest.set(definition.id, definition);
    },
    get(workflowId, version) {
      const definition = byKey.get(definitionKey(workflowId, version));
      if (definition === undefined) throw new UnknownWorkflowError(workflowId, version);
      return definition;
    },
    find: (workflowId, version) => byKey.get(definitionKey(workflowId, version)),
    latest(workflowId) {
      const definition = newest.get(workflowId);
      if (definition === undefined) throw new UnknownWorkflowError(workflowId);
      return definition;
    },
    all: () => [...byKey.values()].sort((a, b) => a.id.localeCompare(b.id) || a.version - b.version),
    keys: () => [...byKey.keys()],
  };
}
