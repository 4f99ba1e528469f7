import { describeEventSourcingContract } from '../contract/event-sourcing-contract.ts';
import { sqliteHarness } from './test-support/harness.ts';

describeEventSourcingContract('sqlite (file, WAL)', sqliteHarness);
