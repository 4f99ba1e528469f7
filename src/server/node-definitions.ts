import { ConfigError } from '../config/config-error.ts';
import type { IngestorDefinition } from '../events/define-ingestor.ts';
import type { ProjectionDefinition } from '../store/projections/projection.ts';
import type { WorkflowDefinition } from '../workflows/define-workflow.ts';

/** The workflows, projections and ingestors a catalog module gives the node besides its catalog. */
export interface NodeDefinitions {
  workflows: WorkflowDefinition[];
  projections: ProjectionDefinition[];
  ingestors: IngestorDefinition[];
  /** Scheduled reports as data (checked when the node starts). */
  reports: unknown[];
}

const isWorkflow = (value: unknown): value is WorkflowDefinition =>
  typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'workflow';

const isIngestor = (value: unknown): value is IngestorDefinition =>
  typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'ingestor';

const isProjection = (value: unknown): value is ProjectionDefinition =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { name?: unknown }).name === 'string' &&
  typeof (value as { apply?: unknown }).apply === 'function' &&
  typeof (value as { createTable?: unknown }).createTable === 'function';

/**
 * The optional `workflows` (made with defineWorkflow), `projections` (defineProjection) and `ingestors`
 * (defineIngestor) exports of the catalog module; throws ConfigError naming the setting and the export when one is not such an array.
 */
export function nodeDefinitionsOf(
  exports: Readonly<Record<string, unknown>>,
  label: string,
  key = 'KEEL_CATALOG',
): NodeDefinitions {
  const pick = <T>(name: string, is: (value: unknown) => value is T, made: string): T[] => {
    const value = exports[name];
    if (value === undefined) return [];
    if (!Array.isArray(value) || !value.every(is)) {
      throw new ConfigError([
        { key, message: `${label} exports "${name}" that is not an array of definitions made with ${made}` },
      ]);
    }
    return value;
  };
  return {
    workflows: pick('workflows', isWorkflow, 'defineWorkflow'),
    projections: pick('projections', isProjection, 'defineProjection'),
    ingestors: pick('ingestors', isIngestor, 'defineIngestor'),
    // Reports are plain data, checked by the node when it starts (errors name `reports.<i>.<field>`).
    reports: pick(
      'reports',
      (value): value is unknown => typeof value === 'object' && value !== null,
      'plain objects',
    ),
  };
}
