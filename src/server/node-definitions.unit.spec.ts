import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/config-error.ts';
import { defineProjection } from '../store/projections/projection.ts';
import { defineWorkflow } from '../workflows/define-workflow.ts';
import { nodeDefinitionsOf } from './node-definitions.ts';

const workflow = defineWorkflow({ id: 'admission', version: 1, steps: [{ name: 'wait', sleepMs: 10 }] });
const projection = defineProjection({ name: 'counts', createTable: () => [], apply: () => {} });

describe('nodeDefinitionsOf', () => {
  it('takes the workflows, projections and reports a catalog module exports, or none', () => {
    const report = { name: 'r', schedule: '@daily', query: 'SELECT 1', destination: { folder: 'out' } };
    expect(
      nodeDefinitionsOf({ workflows: [workflow], projections: [projection], reports: [report] }, 'cat.ts'),
    ).toEqual({
      workflows: [workflow],
      projections: [projection],
      reports: [report],
    });
    expect(nodeDefinitionsOf({}, 'cat.ts')).toEqual({ workflows: [], projections: [], reports: [] });
  });

  it('names the setting and the export that is not an array of definitions', () => {
    expect(() => nodeDefinitionsOf({ workflows: [{ id: 'x' }] }, 'cat.ts', '--catalog')).toThrow(ConfigError);
    expect(() => nodeDefinitionsOf({ projections: 'counts' }, 'cat.ts')).toThrow(
      /KEEL_CATALOG.*cat\.ts exports "projections" that is not an array of definitions made with defineProjection/,
    );
  });
});
