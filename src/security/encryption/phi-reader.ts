/**
 * Who reads: the one capability that decides between plain and masked sensitive values. Authorization
 * plugs in here: a reading context built from an identity with the read-PHI permission sets `canReadPhi`.
 */
export interface PhiReader {
  /** Whether this reader may see protected health information in plain; otherwise it sees `[masked]`. */
  canReadPhi: boolean;
}
