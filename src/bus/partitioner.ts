// The partitioner lives beside the Transport port now; this re-export keeps the Router's import working.
export { murmur2, partitionForKey } from '../transport/partitioner.ts';
