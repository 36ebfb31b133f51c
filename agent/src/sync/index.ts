export { JitterBackoff } from './backoff';
export { type DrainerStats, OutboxDrainer, type RecordSender } from './drainer';
export { DeviceHttpClient } from './http-client';
export type { BatchMode } from './senders';
export { Sync } from './sync';
export { DEFAULT_SYNC_TUNING, type SyncOptions, type SyncState, type SyncTuning } from './types';
