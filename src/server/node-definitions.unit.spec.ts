import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/config-error.ts';
import { defineIngestor } from '../events/define-ingestor.ts';
import { defineProjection } from '../store/projections/projection.ts';
import { defineWorkflow } from '../workflows/define-workflow.ts';
import { nodeDefinitionsOf } from './node-definitions.ts';

const workflow = defineWorkflow({ id: 'admission', version: 1, steps: [{ name: 'wait', sleepMs: 10 }] });
const projection = defineProjection({ name: 'counts', createTable: () => [], apply: () => {} });
const ingestor = defineIngestor({
  name: 'lines',
  description: 'One event per line.',
  ingest: () => ({ kind: 'refused', answer: { status: 400, contentType: 'text/plain', body: 'no' } }),
});

describe('nodeDefinitionsOf', () => {
  it('takes the workflows, projections, ingestors and reports a catalog module exports, or none', () => {
    const report = { name: 'r', schedule: '@daily', query: 'SELECT 1', destination: { folder: 'out' } };
    expect(
      nodeDefinitionsOf(
        { workflows: [workflow], projections: [projection], ingestors: [ingestor], reports: [report] },
        'cat.ts',
      ),
    ).toEqual({ workflows: [workflow], projections: [projection], ingestors: [ingestor], reports: [report] });
    expect(nodeDefinitionsOf({}, 'cat.ts')).toEqual({
      workflows: [],
      projections: [],
      ingestors: [],
      reports: [],
    });
  });

  it('names the setting and the export that is not an array of definitions', () => {
    expect(() => nodeDefinitionsOf({ workflows: [{ id: 'x' }] }, 'cat.ts', '--catalog')).toThrow(ConfigError);
    expect(() => nodeDefinitionsOf({ projections: 'counts' }, 'cat.ts')).toThrow(
      /KEEL_CATALOG.*cat\.ts exports "projections" that is not an array of definitions made with defineProjection/,
    );
    expect(() => nodeDefinitionsOf({ ingestors: [{ name: 'fhir' }] }, 'cat.ts')).toThrow(
      /exports "ingestors" that is not an array of definitions made with defineIngestor/,
    );
  });

  it('refuses an ingestor name that cannot be a path segment', () => {
    expect(() => defineIngestor({ ...ingestor, name: 'FHIR/R4' })).toThrow(
      /lower-case letters, digits and '-'/,
    );
  });
});
