import { describeDurableTimers } from '../contract/process-contract.ts';

describeDurableTimers('sqlite');
