import type { Decider, DomainEvent } from '../deciders/decider.ts';
import type { ProjectionDefinition } from '../projections/projection.ts';
import { defineProjection } from '../projections/projection.ts';

/** Commands of the contract's patient aggregate. */
export type PatientCommand =
  | { type: 'admit'; patientId: string; ward: string }
  | { type: 'move'; patientId: string; ward: string }
  | { type: 'discharge'; patientId: string };

/** Events of the contract's patient aggregate. */
export type PatientEvent =
  | DomainEvent<'contract.patient.admitted', { patientId: string; ward: string }>
  | DomainEvent<'contract.patient.moved', { patientId: string; ward: string }>
  | DomainEvent<'contract.patient.discharged', { patientId: string }>;

/** State of the contract's patient aggregate; `moves` counts every event folded in. */
export interface PatientState {
  status: 'unknown' | 'admitted' | 'discharged';
  ward: string | undefined;
  events: number;
}

/** The contract's decider: admit once, move while admitted, discharge once. */
export const patientDecider: Decider<PatientCommand, PatientEvent, PatientState> = {
  initialState: () => ({ status: 'unknown', ward: undefined, events: 0 }),
  decide(command, state) {
    switch (command.type) {
      case 'admit':
        if (state.status === 'admitted') throw new Error(`patient ${command.patientId} is already admitted`);
        return {
          type: 'contract.patient.admitted',
          data: { patientId: command.patientId, ward: command.ward },
        };
      case 'move':
        if (state.status !== 'admitted') throw new Error(`patient ${command.patientId} is not admitted`);
        if (state.ward === command.ward) return [];
        return { type: 'contract.patient.moved', data: { patientId: command.patientId, ward: command.ward } };
      case 'discharge':
        if (state.status !== 'admitted') throw new Error(`patient ${command.patientId} is not admitted`);
        return [{ type: 'contract.patient.discharged', data: { patientId: command.patientId } }];
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'contract.patient.admitted':
        return { status: 'admitted', ward: event.data.ward, events: state.events + 1 };
      case 'contract.patient.moved':
        return { ...state, ward: event.data.ward, events: state.events + 1 };
      case 'contract.patient.discharged':
        return { status: 'discharged', ward: undefined, events: state.events + 1 };
    }
  },
};

/** A placeholder for parameter `n` in the dialect's SQL. */
export const param = (dialect: 'sqlite' | 'postgres', n: number): string =>
  dialect === 'postgres' ? `$${n}` : '?';

/**
 * The contract's projection: where each patient is (one row per patient, with its tenant). `onApply`
 * lets a test see (or slow down) each batch and the table it went to.
 */
export function wardCensus(
  name = 'ward_census',
  onApply?: (table: string, events: number) => void | Promise<void>,
): ProjectionDefinition {
  return defineProjection({
    name,
    types: ['contract.patient.admitted', 'contract.patient.moved', 'contract.patient.discharged'],
    createTable: (table) => [
      `CREATE TABLE ${table.name} (patient_id TEXT PRIMARY KEY, ward TEXT, tenant_id TEXT NOT NULL, events INTEGER NOT NULL)`,
    ],
    async apply(events, { transaction, table }) {
      await onApply?.(table.bareName, events.length);
      const p = (n: number) => param(transaction.dialect, n);
      for (const stored of events) {
        const data = stored.event.data as { patientId: string; ward?: string };
        const ward = stored.event.type === 'contract.patient.discharged' ? null : (data.ward ?? null);
        // PostgreSQL names the existing row by an alias; SQLite by the (unqualified) table name.
        const row = table.dialect === 'postgres' ? 't' : table.name;
        const alias = table.dialect === 'postgres' ? ' AS t' : '';
        await transaction.query(
          `INSERT INTO ${table.name}${alias} (patient_id, ward, tenant_id, events) VALUES (${p(1)}, ${p(2)}, ${p(3)}, 1)
           ON CONFLICT (patient_id) DO UPDATE SET ward = excluded.ward, events = ${row}.events + 1`,
          [data.patientId, ward, stored.tenantId],
        );
      }
    },
  });
}
