import type { Birth, Command, MachineState, MaintenanceReport } from '@crema/protocol';
import type { Logger } from '../log/logger';
import type { Outbox } from '../store/outbox/types';
import type { Clock } from '../time/clock';
import type { BatchMode } from './senders';

/** `mqtt` / `http`: the hub is reachable on that path; `offline`: on neither (records wait in the outbox). */
export type SyncState = 'mqtt' | 'http' | 'offline';

export type SyncTuning = {
  heartbeatIntervalS: number;
  keepaliveS: number;
  connectTimeoutMs: number;
  /** MQTT reconnect delays (jittered, doubling up to the cap). */
  reconnect: { initialMs: number; maxMs: number };
  /** MQTT down this long → records and command polls go over HTTP until MQTT is back. */
  httpFallbackAfterMs: number;
  httpPollMs: number;
  httpTimeoutMs: number;
  /** Unacknowledged records in flight, at most. */
  window: number;
  /** Records per send (one `batch` message), at most 500. */
  chunk: number;
  ackTimeoutMs: number;
  /** Idle look at the outbox; `Sync.kick()` sends sooner. */
  pollMs: number;
  /** Records per second (remote setting `syncRatePerS`); undefined for no limit. */
  ratePerS: number | undefined;
  batchMode: BatchMode;
  /** Pause after a failed send or poll (jittered, doubling up to the cap). */
  retry: { initialMs: number; maxMs: number };
};

export const DEFAULT_SYNC_TUNING: SyncTuning = {
  heartbeatIntervalS: 30,
  keepaliveS: 30,
  connectTimeoutMs: 10_000,
  reconnect: { initialMs: 1_000, maxMs: 60_000 },
  httpFallbackAfterMs: 30_000,
  httpPollMs: 10_000,
  httpTimeoutMs: 10_000,
  window: 2_000,
  chunk: 500,
  ackTimeoutMs: 30_000,
  pollMs: 100,
  ratePerS: undefined,
  batchMode: 'auto',
  retry: { initialMs: 500, maxMs: 30_000 },
};

export function withDefaults(tuning: Partial<SyncTuning> = {}): SyncTuning {
  const t = { ...DEFAULT_SYNC_TUNING, ...tuning };
  return { ...t, chunk: Math.max(1, Math.min(500, t.chunk)), window: Math.max(1, t.window) };
}

export type SyncOptions = {
  deviceId: string;
  /** The device credential issued by the hub (MQTT password, HTTP Basic password). */
  credential: string;
  mqttUrl?: string;
  /** The hub's HTTP base URL, for the fallback. */
  httpUrl?: string;
  outbox: Outbox;
  clock: Clock;
  logger: Logger;
  /** What `birth` says about the machine (lastSeq and bootId are added here). */
  identity: () => Omit<Birth, 'lastSeq' | 'bootId'>;
  /** What each heartbeat says about the machine. */
  status: () => { state: MachineState; salesLocked: boolean; maintenance?: MaintenanceReport };
  /** Every command received, from MQTT or the HTTP poll, duplicates included. */
  onCommand: (command: Command, via: 'mqtt' | 'http') => void;
  /** The hub's clock (`ts`) of each message it sent, as it arrives: how the agent learns its clock offset. */
  onHubTime?: (hubTs: number) => void;
  tuning?: Partial<SyncTuning>;
  ulid?: () => string;
  random?: () => number;
  fetch?: typeof fetch;
};
