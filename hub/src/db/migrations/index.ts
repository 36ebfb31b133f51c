import type { Migration } from 'kysely';
import * as core from './0001_core';
import * as ingest from './0002_ingest';
import * as operations from './0003_operations';
import * as sessions from './0004_sessions';
import * as clockSkew from './0005_clock_skew';
import * as ledgerEpoch from './0006_ledger_epoch';
import * as artifacts from './0007_artifacts';
import * as scaleOut from './0010_scale_out';

/** Every migration, in order. Names sort; never edit one that has shipped: add the next. */
export const migrations: Record<string, Migration> = {
  '0001_core': core,
  '0002_ingest': ingest,
  '0003_operations': operations,
  '0004_sessions': sessions,
  '0005_clock_skew': clockSkew,
  '0006_ledger_epoch': ledgerEpoch,
  '0007_artifacts': artifacts,
  '0010_scale_out': scaleOut,
};
