/**
 * The hospital systems the saga acts on (bed board, admissions, ward messaging), in memory for the
 * example. Every operation is idempotent by the key it is given — the step's idempotency key — as a real
 * system's API would be with an Idempotency-Key header, so a step re-run after a crash changes nothing.
 */
export interface Hospital {
  /** Holds a free bed on the ward; the same key returns the same hold. Throws NoBedError when none is free. */
  holdBed(key: string, wardId: string, patientId: string): { bedId: string };
  releaseHold(key: string, bedId: string): void;
  createAdmission(key: string, patientId: string, wardId: string): { admissionId: string };
  cancelAdmission(key: string, admissionId: string): void;
  /** Assigns a held bed (the bed service calls it); throws when the bed is out of service. */
  assignBed(key: string, bedId: string, patientId: string): void;
  unassignBed(key: string, bedId: string): void;
  notifyWard(key: string, wardId: string, message: string): void;
  /** Takes a bed out of service: assigning it fails. */
  breakBed(bedId: string): void;
  /** Every effect applied, in order (`<operation> <subject>`). */
  readonly log: readonly string[];
  /** State of a bed: `free`, `held by <patient>`, `assigned to <patient>`. */
  bed(bedId: string): string;
  /** Status of an admission: `active` or `cancelled`. */
  admission(admissionId: string): string | undefined;
}

/** No free bed on the ward: a step no retry can cure. */
export class NoBedError extends Error {
  readonly code = 'HOSPITAL_NO_BED';
  readonly wardId: string;

  constructor(wardId: string) {
    super(`no free bed on ward ${wardId}`);
    this.name = 'NoBedError';
    this.wardId = wardId;
  }
}

/** A hospital with `bedsPerWard` beds on each of the given wards. */
export function createHospital(wards: readonly string[], bedsPerWard: number): Hospital {
  const beds = new Map<string, { ward: string; state: string; broken: boolean }>();
  for (const ward of wards) {
    for (let n = 1; n <= bedsPerWard; n++)
      beds.set(`${ward}-bed-${n}`, { ward, state: 'free', broken: false });
  }
  const admissions = new Map<string, string>();
  const done = new Map<string, unknown>();
  const log: string[] = [];
  let admissionSeq = 0;
  // Runs an operation once per key and remembers its result, as an idempotent API does.
  const once = <T>(key: string, operation: () => T): T => {
    if (done.has(key)) return done.get(key) as T;
    const result = operation();
    done.set(key, result);
    return result;
  };
  return {
    holdBed: (key, wardId, patientId) =>
      once(key, () => {
        const free = [...beds].find(([, bed]) => bed.ward === wardId && bed.state === 'free');
        if (free === undefined) throw new NoBedError(wardId);
        free[1].state = `held by ${patientId}`;
        log.push(`hold ${free[0]}`);
        return { bedId: free[0] };
      }),
    releaseHold: (key, bedId) =>
      once(key, () => {
        beds.get(bedId)!.state = 'free';
        log.push(`release ${bedId}`);
      }),
    createAdmission: (key, patientId) =>
      once(key, () => {
        const admissionId = `adm-${++admissionSeq}`;
        admissions.set(admissionId, 'active');
        log.push(`admit ${patientId} as ${admissionId}`);
        return { admissionId };
      }),
    cancelAdmission: (key, admissionId) =>
      once(key, () => {
        admissions.set(admissionId, 'cancelled');
        log.push(`cancel ${admissionId}`);
      }),
    assignBed: (key, bedId, patientId) =>
      once(key, () => {
        const bed = beds.get(bedId)!;
        if (bed.broken) throw new Error(`bed ${bedId} is out of service`);
        bed.state = `assigned to ${patientId}`;
        log.push(`assign ${bedId} to ${patientId}`);
      }),
    unassignBed: (key, bedId) =>
      once(key, () => {
        beds.get(bedId)!.state = 'free';
        log.push(`unassign ${bedId}`);
      }),
    notifyWard: (key, wardId, message) =>
      once(key, () => {
        log.push(`notify ${wardId}: ${message}`);
      }),
    breakBed(bedId) {
      beds.get(bedId)!.broken = true;
    },
    log,
    bed: (bedId) => beds.get(bedId)?.state ?? 'unknown',
    admission: (admissionId) => admissions.get(admissionId),
  };
}
