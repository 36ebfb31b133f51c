import type { Migration } from 'kysely';
import * as core from './0001_core';
import * as ingest from './0002_ingest';
import * as operations from './0003_operations';
import * as sessions from './0004_sessions';
import * as clockSkew from './0005_clock_skew';
import * as ledgerEpoch from './0006_ledger_epoch';
import * as artifacts from './0007_artifacts';
import * as rollouts from './0008_rollouts';
import * as signingKeys from './0009_signing_keys';
import * as scaleOut from './0010_scale_out';
import * as refundStatus from './0012_refund_status';
import * as merchantTimeZone from './0013_merchant_time_zone';
import * as webhooks from './0014_webhooks';
import * as loginEvents from './0015_login_events';
import * as apiKeys from './0016_api_keys';
import * as claimCodes from './0017_claim_codes';
import * as workOrderAssignees from './0018_work_order_assignees';
import * as dexReads from './0019_dex_reads';
import * as maintenance from './0020_maintenance';
import * as materialBins from './0021_material_bins';
import * as sequenceInbox from './0022_sequence_inbox';
import * as sharedStore from './0023_shared_store';

/** Every migration, in order. Names sort; never edit one that has shipped: add the next. */
export const migrations: Record<string, Migration> = {
  '0001_core': core,
  '0002_ingest': ingest,
  '0003_operations': operations,
  '0004_sessions': sessions,
  '0005_clock_skew': clockSkew,
  '0006_ledger_epoch': ledgerEpoch,
  '0007_artifacts': artifacts,
  '0008_rollouts': rollouts,
  '0009_signing_keys': signingKeys,
  '0010_scale_out': scaleOut,
  '0012_refund_status': refundStatus,
  '0013_merchant_time_zone': merchantTimeZone,
  '0014_webhooks': webhooks,
  '0015_login_events': loginEvents,
  '0016_api_keys': apiKeys,
  '0017_claim_codes': claimCodes,
  '0018_work_order_assignees': workOrderAssignees,
  '0019_dex_reads': dexReads,
  '0020_maintenance': maintenance,
  '0021_material_bins': materialBins,
  '0022_sequence_inbox': sequenceInbox,
  '0023_shared_store': sharedStore,
};
