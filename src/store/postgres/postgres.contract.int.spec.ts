import { describeEventStoreContract } from '../contract/event-store-contract.ts';
import { postgresHarness } from './test-support/harness.ts';
import { usePostgresTestLock } from './test-support/test-lock.ts';

// Each test gets its own schema on the real server, dropped afterwards, so runs never collide.
usePostgresTestLock();
describeEventStoreContract('postgres (real server, one schema per test)', postgresHarness);
