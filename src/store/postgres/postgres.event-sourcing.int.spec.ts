import { describeEventSourcingContract } from '../contract/event-sourcing-contract.ts';
import { postgresHarness } from './test-support/harness.ts';
import { usePostgresTestLock } from './test-support/test-lock.ts';

usePostgresTestLock();
describeEventSourcingContract('postgres (real server, one schema per test)', postgresHarness);
