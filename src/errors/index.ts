export { KeelError } from './keel-error.ts';
