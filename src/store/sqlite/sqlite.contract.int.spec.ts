import { describeEventStoreContract } from '../contract/event-store-contract.ts';
import { sqliteHarness } from './test-support/harness.ts';

describeEventStoreContract('sqlite (file, WAL)', sqliteHarness);
