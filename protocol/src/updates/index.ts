export * from './artifact-check';
export * from './keys';
export * from './manifest';
export * from './progress';
export * from './rotation';
export * from './signing';
export * from './trust';
