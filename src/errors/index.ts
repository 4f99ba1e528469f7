export { KeelError } from './keel-error.ts';
export { OptionsError, type OptionsErrorFactory, parseOptions } from './options.ts';
