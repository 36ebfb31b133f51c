import { AlarmDetector, type AlarmDetectorOptions } from './alarms';
import { MaterialsReporter } from './materials';
import { TelemetrySampler } from './telemetry';

export type MonitorOptions = Omit<AlarmDetectorOptions, 'checkIntervalMs'> & {
  telemetryIntervalMs?: number;
  materialsIntervalMs?: number;
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
