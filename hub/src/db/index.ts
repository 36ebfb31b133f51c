export * from './connect';
export type { Database } from './database';
export * from './migrate';
