import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTempNode, type TempNode } from '../../../../src/server/test-support/temp-node.ts';
import { catalog, ingestors } from '../../catalog.ts';
import { fetchFhirExamples, r4Example } from './test-support/fhir-examples.ts';

/** The R4 specification's examples of the resource types the pack maps (HL7's published test cases). */
const PUBLISHED = [
  'patient-example.json',
  'encounter-example.json',
  'observation-example.json',
  'condition-example.json',
  'medicationrequest0301.json',
  'appointment-example.json',
];

// Claim and ClaimResponse have no example in the test cases: these follow the specification's claim example.
const claim = {
  resourceType: 'Claim',
  id: 'claim-100150',
  meta: { versionId: '1', lastUpdated: '2024-12-06T08:00:00Z' },
  status: 'active',
  type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'oral' }] },
  use: 'claim',
  patient: { reference: 'Patient/example' },
  created: '2024-12-06',
  insurer: { reference: 'Organization/payer-acme' },
  provider: { reference: 'Organization/clinic-1' },
  priority: { coding: [{ code: 'normal' }] },
  insurance: [{ sequence: 1, focal: true, coverage: { reference: 'Coverage/9876B1' } }],
  item: [
    {
      sequence: 1,
      productOrService: { coding: [{ code: '1200' }] },
      net: { value: 135.57, currency: 'USD' },
    },
  ],
  total: { value: 135.57, currency: 'USD' },
};
const denial = {
  resourceType: 'ClaimResponse',
  id: 'R3500',
  meta: { versionId: '1' },
  status: 'active',
  type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'oral' }] },
  use: 'claim',
  patient: { reference: 'Patient/example' },
  created: '2024-12-20T08:00:00Z',
  insurer: { reference: 'Organization/payer-acme' },
  request: { reference: 'Claim/claim-100150' },
  outcome: 'error',
  error: [
    {
      code: {
        coding: [{ system: 'http://terminology.hl7.org/CodeSystem/adjudication-error', code: 'a001' }],
      },
    },
  ],
};

type Outcome = {
  resourceType: string;
  issue: { severity: string; code: string; diagnostics: string; expression?: string[] }[];
};
type ResponseBundle = {
  resourceType: 'Bundle';
  type: string;
  entry: { response: { status: string; location?: string; outcome?: Outcome } }[];
};

function transaction(resources: readonly Record<string, unknown>[], type = 'transaction') {
  return {
    resourceType: 'Bundle',
    type,
    entry: resources.map((resource) => ({
      fullUrl: `urn:uuid:${resource.resourceType}-${resource.id}`,
      resource,
      request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
    })),
  };
}

let temp: TempNode;
let base: string;

beforeAll(async () => {
  // The first run on a machine downloads HL7's test cases from Maven Central.
  fetchFhirExamples();
  temp = await startTempNode({ catalog, ingestors });
  base = temp.node.url!;
}, 900_000);
afterAll(async () => {
  await temp.close();
});

async function ingest(body: unknown, contentType = 'application/fhir+json') {
  const response = await fetch(`${base}/v1/ingest/fhir`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: (await response.json()) as unknown,
  };
}

describe('POST /v1/ingest/fhir', () => {
  it.each(PUBLISHED)('takes the published example %s alone and stores its events', async (file) => {
    const before = await temp.totalRecords();
    const answer = await ingest(r4Example(file));
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.type).toMatch(/^application\/fhir\+json/);
    expect((answer.body as Outcome).resourceType).toBe('OperationOutcome');
    // The resource's event and the receipt of the request.
    expect(await temp.totalRecords()).toBe(before + 2n);
  });

  it('publishes a transaction of published examples all at once, and the same bundle again publishes nothing', async () => {
    const resources = [
      ...PUBLISHED.map((file) => ({ ...r4Example(file), meta: { versionId: '7' } })),
      claim,
      denial,
    ];
    const bundle = transaction(resources);
    const before = await temp.totalRecords();
    const first = await ingest(bundle);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const response = first.body as ResponseBundle;
    expect(response.type).toBe('transaction-response');
    expect(response.entry.map((e) => e.response.status)).toEqual(resources.map(() => '201 Created'));
    expect(response.entry[0]?.response.location).toBe('Patient/example/_history/7');
    const stored = await temp.totalRecords();
    expect(stored - before).toBe(BigInt(resources.length + 1));

    const again = await ingest(bundle);
    expect(again.status).toBe(200);
    expect((again.body as ResponseBundle).entry.map((e) => e.response.status)).toEqual(
      resources.map(() => '200 OK'),
    );
    expect(await temp.totalRecords()).toBe(stored);
  });

  it('maps observations by category and claims by outcome onto their topics', async () => {
    const lab = {
      resourceType: 'Observation',
      id: 'glucose-1',
      meta: { versionId: '1' },
      status: 'final',
      category: [
        {
          coding: [
            { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' },
          ],
        },
      ],
      code: { coding: [{ system: 'http://loinc.org', code: '2345-7', display: 'Glucose' }] },
      subject: { reference: 'urn:uuid:Patient-p-77' },
      effectiveDateTime: '2024-12-02T11:30:00Z',
      valueQuantity: { value: 112, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
    };
    const patient = { ...r4Example('patient-example.json'), id: 'p-77', meta: { versionId: '1' } };
    const answer = await ingest(transaction([patient, lab, claim, denial]));
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const notes = (answer.body as ResponseBundle).entry.map((e) => e.response.outcome?.issue[0]?.diagnostics);
    expect(notes[0]).toMatch(/^healthcare\.patient\.created .* healthcare\.patients\.events\//);
    expect(notes[1]).toMatch(/^healthcare\.lab-result\.received .* healthcare\.clinical\.events\//);
    expect(notes[3]).toMatch(/^healthcare\.claim\.denied .* healthcare\.rcm\.events\//);
    const messages = (await (
      await fetch(
        `${base}/v1/topics/healthcare.clinical.events/messages?type=healthcare.lab-result.received&order=newest`,
      )
    ).json()) as { items: { event: { subject: string; data: { patientId: string; value: unknown } } }[] };
    // The subject's urn:uuid reference was resolved through the bundle to the patient's id.
    expect(messages.items[0]?.event).toMatchObject({
      subject: 'p-77',
      data: { patientId: 'p-77', value: { value: 112, unit: 'mg/dL' } },
    });
  });

  it('refuses a transaction with one invalid entry, naming the entry and the element, and stores nothing', async () => {
    const broken = { ...r4Example('patient-example.json'), id: 'broken', birthDate: '1974-13-45' };
    const before = await temp.totalRecords();
    const answer = await ingest(transaction([r4Example('condition-example.json'), broken]));
    expect(answer.status).toBe(422);
    const outcome = answer.body as Outcome;
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue).toEqual([
      expect.objectContaining({ severity: 'error', expression: ['Bundle.entry[1].resource.birthDate'] }),
    ]);
    expect(await temp.totalRecords()).toBe(before);
  });

  it('names an element an event cannot do without, in a valid resource', async () => {
    const nameless = { resourceType: 'Patient', id: 'nameless', birthDate: '1990-01-01' };
    const answer = await ingest(transaction([nameless]));
    expect(answer.status).toBe(422);
    expect((answer.body as Outcome).issue[0]).toMatchObject({
      code: 'required',
      expression: ['Bundle.entry[0].resource.name[0].given[0]'],
    });
  });

  it('publishes the good entries of a batch and answers the bad one in the batch-response', async () => {
    const good = { ...r4Example('condition-example.json'), id: 'batch-good', meta: { versionId: '1' } };
    const bad = { ...r4Example('observation-example.json'), id: 'batch-bad', status: 42 };
    const before = await temp.totalRecords();
    const answer = await ingest(transaction([good, bad], 'batch'));
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const entries = (answer.body as ResponseBundle).entry;
    expect(entries.map((e) => e.response.status)).toEqual(['201 Created', '422 Unprocessable Entity']);
    expect(entries[1]?.response.outcome?.issue[0]?.expression?.[0]).toMatch(
      /^Bundle\.entry\[1\]\.resource\.status/,
    );
    expect(await temp.totalRecords()).toBe(before + 2n);
  });

  it('refuses the same resource version with other content (409), naming the entry, and stores nothing', async () => {
    const first = { ...r4Example('condition-example.json'), id: 'versioned', meta: { versionId: '3' } };
    expect((await ingest(transaction([first]))).status).toBe(200);
    const before = await temp.totalRecords();
    const changed = { ...first, severity: { text: 'Mild' } };
    const answer = await ingest(transaction([r4Example('patient-example.json'), changed]));
    expect(answer.status).toBe(409);
    expect((answer.body as Outcome).issue[0]).toMatchObject({
      code: 'conflict',
      expression: ['Bundle.entry[1].resource'],
    });
    expect(await temp.totalRecords()).toBe(before);
  });

  it('answers an OperationOutcome to what is not a bundle it takes', async () => {
    const searchset = await ingest({ resourceType: 'Bundle', type: 'searchset', entry: [] });
    expect(searchset.status).toBe(400);
    expect((searchset.body as Outcome).issue[0]).toMatchObject({
      code: 'not-supported',
      expression: ['Bundle.type'],
    });
    const malformed = await ingest('{"resourceType": "Bundle",');
    expect(malformed.status).toBe(400);
    expect((malformed.body as Outcome).issue[0]?.code).toBe('structure');
    const xml = await ingest('<Patient xmlns="http://hl7.org/fhir"/>', 'application/fhir+xml');
    expect(xml.status).toBe(415);
    const unknown = await fetch(`${base}/v1/ingest/nope`, { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(404);
  });
});

describe('POST /v1/ingest/fhir with bundles published by others', () => {
  const validator = 'org/hl7/fhir/testcases/validator';
  const r4 = 'org/hl7/fhir/testcases/r4';

  it('takes a message bundle (enrolment: MessageHeader, Patient, Condition, MedicationRequest...)', async () => {
    const before = await temp.totalRecords();
    const answer = await ingest(r4Example('bundle-enrl.json', validator));
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    const diagnostics = (answer.body as Outcome).issue.map((i) => i.diagnostics);
    for (const type of ['patient.created', 'diagnosis.added', 'prescription.created']) {
      expect(diagnostics).toContainEqual(
        expect.stringMatching(new RegExp(`^healthcare\\.${type.replace('.', '\\.')} stored`)),
      );
    }
    // Three events and the receipt; the other fifteen resources are validated and listed, with no event.
    expect(await temp.totalRecords()).toBe(before + 4n);
  });

  it('refuses a published transaction whose resources have numeric ids, naming each, and stores nothing', async () => {
    const before = await temp.totalRecords();
    const answer = await ingest(r4Example('r4-caredove-bundle.json', r4));
    expect(answer.status).toBe(422);
    const expressions = (answer.body as Outcome).issue.map((i) => i.expression?.[0]);
    expect(expressions).toContain('Bundle.entry[0].resource.id');
    expect(expressions).toContain('Bundle.entry[1].resource.id');
    expect(await temp.totalRecords()).toBe(before);
  });

  it('refuses a published bundle without a type, naming Bundle.type', async () => {
    const answer = await ingest(r4Example('bundle-with-no-type.json', r4));
    expect(answer.status).toBe(400);
    expect((answer.body as Outcome).issue[0]?.expression).toEqual(['Bundle.type']);
  });
});
