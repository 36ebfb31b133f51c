import type { Migration } from 'kysely';
import * as core from './0001_core';

/** Every migration, in order. Names sort; never edit one that has shipped: add the next. */
export const migrations: Record<string, Migration> = {
  '0001_core': core,
};
