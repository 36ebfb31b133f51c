export { type DrainerStats, OutboxDrainer, type RecordSender } from './drainer';
export { DeviceHttpClient } from './http-client';
export { HubLink, type HubLinkHooks, type HubLinkOptions } from './hub-link';
export { AGENT_VERSION, MachineIdentity } from './identity';
export type { BatchMode } from './senders';
export { Sync } from './sync';
export { DEFAULT_SYNC_TUNING, type SyncOptions, type SyncState, type SyncTuning } from './types';
