import { type RegisterKey, type Telemetry, type TelemetrySample, TelemetrySchema } from '@crema/protocol';
import type { AuxBoards } from '../drivers/modbus/types';
import type { Logger } from '../log/logger';
import type { Clock, ClockTimer } from '../time/clock';
import type { MonitorSink } from './sink';

/** Snapshot values reported as telemetry, by metric name (unit as suffix). */
export const TELEMETRY_METRICS: ReadonlyArray<[string, RegisterKey]> = [
  ['boiler_temp_c', 'boilerTemp'],
  ['pressure_bar', 'pressure'],
  ['water_level_ml', 'waterLevel'],
  ['beans_level_g', 'beansLevel'],
  ['milk_level_ml', 'milkLevel'],
  ['cups_level_pcs', 'cupsLevel'],
  ['waste_level_pct', 'wasteLevel'],
  ['brew_count', 'brewCount'],
];

export type TelemetrySamplerOptions = {
  boards: AuxBoards;
  /** Devices whose link state is reported as `<name>_connected` (1 or 0). */
  links: Record<string, { readonly connected: boolean }>;
  clock: Clock;
  logger: Logger;
  sink: MonitorSink;
  intervalMs?: number;
};

/** Every interval, one Telemetry record from the boards' snapshot, board health and link states. */
export class TelemetrySampler {
  private timer: ClockTimer | undefined;
  private readonly log: Logger;

  constructor(private readonly opts: TelemetrySamplerOptions) {
    this.log = opts.logger.child({ ns: 'agent:telemetry' });
  }

  start(): void {
    this.timer ??= this.opts.clock.setInterval(() => this.sample(), this.opts.intervalMs ?? 10_000);
  }

  stop(): void {
    if (this.timer) this.opts.clock.clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes and sends one sample now; returns what was sent. */
  sample(): Telemetry {
    const ts = this.opts.clock.now();
    const snap = this.opts.boards.snapshot();
    const samples: TelemetrySample[] = [];
    for (const [metric, key] of TELEMETRY_METRICS) {
      const value = snap.values[key];
      if (value !== undefined) samples.push({ ts, metric, value });
    }
    for (const h of snap.health) {
      samples.push({ ts, metric: `board_${h.board}_up`, value: h.online ? 1 : 0 });
      samples.push({ ts, metric: `board_${h.board}_failures`, value: h.failures });
    }
    for (const [name, link] of Object.entries(this.opts.links)) {
      samples.push({ ts, metric: `${name}_connected`, value: link.connected ? 1 : 0 });
    }
    const body = TelemetrySchema.parse({ samples });
    this.log.debug({ samples: samples.length }, 'telemetry sample');
    this.opts.sink('telemetry', body);
    return body;
  }
}
