import type { Alarm, MaterialLevels, Telemetry } from '@crema/protocol';

/** Where the monitor's records go (the outbox, in the agent). */
export type MonitorSink = {
  (type: 'telemetry', body: Telemetry): void;
  (type: 'materials', body: MaterialLevels): void;
  (type: 'alarm', body: Alarm): void;
};
