import { usePostgresTestLock } from '../../test-support/postgres-lock.ts';
import { describeEventStoreContract } from '../contract/event-store-contract.ts';
import { postgresHarness } from './test-support/harness.ts';

// Each test gets its own schema on the real server, dropped afterwards, so runs never collide.
usePostgresTestLock();
describeEventStoreContract('postgres (real server, one schema per test)', postgresHarness);
