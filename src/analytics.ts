// Public API of `keel/analytics`: pattern rules over the bus.
export * from './analytics/index.ts';
