import type { Brewer } from '../drivers/brewer/types';
import type { AuxBoards } from '../drivers/modbus/types';
import type { Logger } from '../log/logger';
import type { Clock } from '../time/clock';
import { AlarmDetector, type AlarmThresholds } from './alarms';
import { MaterialsReporter } from './materials';
import type { MonitorSink } from './sink';
import { TelemetrySampler } from './telemetry';

export type MonitorOptions = {
  boards: AuxBoards;
  brewer: Brewer;
  payment: { readonly connected: boolean };
  clock: Clock;
  logger: Logger;
  sink: MonitorSink;
  telemetryIntervalMs?: number;
  materialsIntervalMs?: number;
  thresholds?: Partial<AlarmThresholds>;
  offlineGraceMs?: number;
};

/** Telemetry sampler, material-levels reporter and alarm detector, started and stopped together. */
export class Monitor {
  readonly telemetry: TelemetrySampler;
  readonly materials: MaterialsReporter;
  readonly alarms: AlarmDetector;

  constructor(o: MonitorOptions) {
    this.telemetry = new TelemetrySampler({
      boards: o.boards,
      links: { brewer: o.brewer, payment: o.payment },
      clock: o.clock,
      logger: o.logger,
      sink: o.sink,
      intervalMs: o.telemetryIntervalMs,
    });
    this.materials = new MaterialsReporter({
      boards: o.boards,
      clock: o.clock,
      sink: o.sink,
      intervalMs: o.materialsIntervalMs,
    });
    this.alarms = new AlarmDetector({
      boards: o.boards,
      brewer: o.brewer,
      payment: o.payment,
      clock: o.clock,
      logger: o.logger,
      sink: o.sink,
      thresholds: o.thresholds,
      offlineGraceMs: o.offlineGraceMs,
    });
  }

  start(): void {
    this.alarms.start();
    this.telemetry.start();
    this.materials.start();
  }

  stop(): void {
    this.materials.stop();
    this.telemetry.stop();
    this.alarms.stop();
  }
}
