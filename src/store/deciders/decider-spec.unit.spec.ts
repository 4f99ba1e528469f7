import { AssertionError } from 'node:assert';
import { describe, expect, it } from 'vitest';
import { patientDecider } from '../contract/test-domain.ts';
import { deciderSpec } from './decider-spec.ts';

const spec = deciderSpec(patientDecider);
const admitted = { type: 'contract.patient.admitted', data: { patientId: 'p1', ward: 'A' } } as const;

describe('deciderSpec: given events, when a command, then events (or a refusal)', () => {
  it('passes when the decision is the expected events, in order', () => {
    spec.given([]).when({ type: 'admit', patientId: 'p1', ward: 'A' }).then([admitted]);
    spec.given([]).when({ type: 'admit', patientId: 'p1', ward: 'A' }).then(admitted);
    spec
      .given([admitted])
      .when({ type: 'move', patientId: 'p1', ward: 'B' })
      .then([{ type: 'contract.patient.moved', data: { patientId: 'p1', ward: 'B' } }]);
    spec.given([admitted]).when({ type: 'move', patientId: 'p1', ward: 'A' }).thenNothing();
  });

  it('fails with an AssertionError (a diff) when the events differ, or when the decision throws', () => {
    expect(() =>
      spec
        .given([])
        .when({ type: 'admit', patientId: 'p1', ward: 'A' })
        .then([{ ...admitted, data: { patientId: 'p1', ward: 'Z' } }]),
    ).toThrow(AssertionError);
    expect(() => spec.given([admitted]).when({ type: 'admit', patientId: 'p1', ward: 'A' }).then([])).toThrow(
      /expected events, but the decision threw: Error: patient p1 is already admitted/,
    );
    expect(() => spec.given([]).when({ type: 'admit', patientId: 'p1', ward: 'A' }).thenNothing()).toThrow(
      AssertionError,
    );
  });

  it('thenThrows checks the refusal by class, message text, pattern or predicate', () => {
    const refused = spec.given([admitted]).when({ type: 'admit', patientId: 'p1', ward: 'B' });
    refused.thenThrows();
    refused.thenThrows(Error);
    refused.thenThrows('already admitted');
    refused.thenThrows(/p1 is already/);
    refused.thenThrows((error) => error instanceof Error && error.message.startsWith('patient'));
    expect(() => refused.thenThrows(TypeError)).toThrow(AssertionError);
    expect(() => refused.thenThrows('not admitted')).toThrow(/does not match/);
    expect(() => spec.given([]).when({ type: 'admit', patientId: 'p1', ward: 'A' }).thenThrows()).toThrow(
      /expected the decision to throw, but it produced/,
    );
  });
});
