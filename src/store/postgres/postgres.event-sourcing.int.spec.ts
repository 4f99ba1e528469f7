import { usePostgresTestLock } from '../../test-support/postgres-lock.ts';
import { describeEventSourcingContract } from '../contract/event-sourcing-contract.ts';
import { postgresHarness } from './test-support/harness.ts';

usePostgresTestLock();
describeEventSourcingContract('postgres (real server, one schema per test)', postgresHarness);
