import { usePostgresTestLock } from '../../test-support/postgres-lock.ts';
import { describeCrashRecovery, describeDurableTimers } from '../contract/process-contract.ts';

// PostgreSQL test files take turns on the shared server (see the store's test lock).
usePostgresTestLock();
describeCrashRecovery('postgres');
describeDurableTimers('postgres');
