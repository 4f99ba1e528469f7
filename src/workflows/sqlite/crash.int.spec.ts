import { describeCrashRecovery } from '../contract/process-contract.ts';

describeCrashRecovery('sqlite');
