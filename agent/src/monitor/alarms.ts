import {
  type Alarm,
  type AlarmCode,
  AlarmCodeSchema,
  AlarmSchema,
  type BoardName,
  decodeFaultBits,
  defaultBinOf,
  FaultBits,
  type RegisterKey,
  type Severity,
} from '@crema/protocol';
import type { Brewer, BrewerEvent } from '../drivers/brewer/types';
import type { AuxBoards, AuxSnapshot } from '../drivers/modbus/types';
import type { Logger } from '../log/logger';
import type { Clock, ClockTimer } from '../time/clock';
import type { Bins } from './bins';
import type { MonitorSink } from './sink';

/** Raise below `low`; clear only once back at or above `low + margin`, so a level near the line never flaps. */
export type LowThreshold = { low: number; margin: number };

export type AlarmThresholds = {
  water: LowThreshold;
  beans: LowThreshold;
  milk: LowThreshold;
  cups: LowThreshold;
  /** Grounds bin: raise at or above `high` %, clear below `high - margin`. */
  waste: { high: number; margin: number };
};

export const DEFAULT_THRESHOLDS: AlarmThresholds = {
  water: { low: 500, margin: 200 },
  beans: { low: 100, margin: 50 },
  milk: { low: 200, margin: 100 },
  cups: { low: 10, margin: 5 },
  waste: { high: 90, margin: 10 },
};

const LEVELS: ReadonlyArray<['water' | 'beans' | 'milk' | 'cups', RegisterKey, AlarmCode]> = [
  ['water', 'waterLevel', 'water_low'],
  ['beans', 'beansLevel', 'beans_low'],
  ['milk', 'milkLevel', 'milk_low'],
  ['cups', 'cupsLevel', 'cups_low'],
];

const FAULT_REGISTERS: ReadonlyArray<[BoardName, RegisterKey]> = [
  ['boiler', 'boilerFaults'],
  ['supply', 'supplyFaults'],
  ['sensors', 'sensorFaults'],
];

/** Alarm codes a board's fault register can carry: those named after one of its fault bits. */
const FAULT_BIT_ALARMS: readonly AlarmCode[] = AlarmCodeSchema.options.filter((code) => code in FaultBits);

const WARNING: ReadonlySet<AlarmCode> = new Set([
  'water_low',
  'beans_low',
  'milk_low',
  'cups_low',
  'door_open',
]);

export type AlarmDetectorOptions = {
  boards: AuxBoards;
  brewer: Brewer;
  payment: { readonly connected: boolean };
  clock: Clock;
  logger: Logger;
  sink: MonitorSink;
  thresholds?: Partial<AlarmThresholds>;
  /**
   * The bin binding: a sensed bin's low alarm keeps the code of its default kind (`milk_low` for the milk line)
   * but its message names the material bound to it (`oat_milk (bin 3) level …`).
   */
  bins?: Bins;
  /** A link must stay down this long before its offline alarm is raised. */
  offlineGraceMs?: number;
  checkIntervalMs?: number;
};

/**
 * Raises and clears alarms from Modbus readings and fault bits, brewer events and link states. An alarm can
 * have several sources (a fault bit on a board and the brewer's FAULT event); it clears when none is left.
 */
export class AlarmDetector {
  private readonly sources = new Map<AlarmCode, Set<string>>();
  private readonly raisedAt = new Map<AlarmCode, Alarm>();
  private readonly downSince = new Map<string, number>();
  private readonly thresholds: AlarmThresholds;
  private readonly log: Logger;
  private timer: ClockTimer | undefined;
  private unsubscribe: Array<() => void> = [];

  constructor(private readonly opts: AlarmDetectorOptions) {
    this.thresholds = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
    this.log = opts.logger.child({ ns: 'agent:alarms' });
  }

  start(): void {
    if (this.timer) return;
    this.unsubscribe = [
      this.opts.boards.onUpdate((s) => this.onSnapshot(s)),
      this.opts.brewer.onEvent((e) => this.onBrewerEvent(e)),
    ];
    this.timer = this.opts.clock.setInterval(() => this.check(), this.opts.checkIntervalMs ?? 1000);
    this.onSnapshot(this.opts.boards.snapshot());
    this.check();
  }

  stop(): void {
    if (this.timer) this.opts.clock.clearInterval(this.timer);
    this.timer = undefined;
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
  }

  /** Alarms raised now, each as it was raised. */
  active(): Alarm[] {
    return [...this.raisedAt.values()];
  }

  private boundName(kind: string): string {
    const bin = defaultBinOf(kind);
    const bound = this.opts.bins?.bindings.find((b) => b.bin === bin)?.material;
    return bound === undefined || bound === kind ? kind : `${bound} (bin ${bin})`;
  }

  private onSnapshot(snap: AuxSnapshot): void {
    const v = snap.values;
    for (const [material, key, code] of LEVELS) {
      const level = v[key];
      if (level === undefined) continue;
      const t = this.thresholds[material];
      const raised = this.has(code, 'level');
      if (!raised && level < t.low)
        this.set(code, 'level', true, level, `${this.boundName(material)} level ${level} below ${t.low}`);
      else if (raised && level >= t.low + t.margin) this.set(code, 'level', false, level);
    }
    const waste = v.wasteLevel;
    if (waste !== undefined) {
      const t = this.thresholds.waste;
      const raised = this.has('waste_full', 'level');
      if (!raised && waste >= t.high)
        this.set('waste_full', 'level', true, waste, `grounds bin ${waste}% full`);
      else if (raised && waste < t.high - t.margin) this.set('waste_full', 'level', false, waste);
    }
    for (const [board, key] of FAULT_REGISTERS) {
      const raw = v[key];
      if (raw === undefined) continue; // board unreachable: its faults are unknown, keep what we had
      const active = new Set<string>(decodeFaultBits(raw));
      for (const code of FAULT_BIT_ALARMS) this.set(code, `modbus:${board}`, active.has(code));
    }
    if (v.doorOpen !== undefined) this.set('door_open', 'sensor', v.doorOpen !== 0);
    for (const h of snap.health) {
      this.set('board_offline', `board:${h.board}`, !h.online, undefined, `board ${h.board} offline`);
    }
  }

  private onBrewerEvent(e: BrewerEvent): void {
    if (e.type === 'fault' || e.type === 'clear') {
      const code = AlarmCodeSchema.safeParse(e.code);
      if (code.success) this.set(code.data, 'brewer', e.type === 'fault');
    } else if (e.type === 'door') {
      this.set('door_open', 'brewer', e.state === 'open');
    }
  }

  private check(): void {
    const refused = this.opts.brewer.refusal;
    const why = refused
      ? `a different brewer (serial ${refused.found.serial}) answers; this machine's is ${refused.expected.serial}`
      : undefined;
    this.link('brewer', 'brewer_offline', this.opts.brewer.connected, why);
    this.link('payment', 'payment_terminal_offline', this.opts.payment.connected);
  }

  private link(name: string, code: AlarmCode, connected: boolean, why?: string): void {
    const now = this.opts.clock.now();
    if (connected) {
      this.downSince.delete(name);
      this.set(code, 'link', false);
      return;
    }
    const since = this.downSince.get(name) ?? now;
    this.downSince.set(name, since);
    if (now - since >= (this.opts.offlineGraceMs ?? 10_000)) {
      const down = `${name} link down for ${Math.round((now - since) / 1000)} s`;
      this.set(code, 'link', true, undefined, why ? `${down}: ${why}` : down);
    }
  }

  private has(code: AlarmCode, source: string): boolean {
    return this.sources.get(code)?.has(source) ?? false;
  }

  private set(code: AlarmCode, source: string, on: boolean, value?: number, message?: string): void {
    const set = this.sources.get(code) ?? new Set<string>();
    this.sources.set(code, set);
    const wasActive = set.size > 0;
    if (on) set.add(source);
    else set.delete(source);
    if (!wasActive && set.size > 0) this.emit(code, 'raised', value, message ?? `${code} (${source})`);
    else if (wasActive && set.size === 0) this.emit(code, 'cleared', value);
  }

  private emit(code: AlarmCode, state: Alarm['state'], value?: number, message?: string): void {
    const alarm: Alarm = { code, state, severity: severityOf(code), at: this.opts.clock.now() };
    if (value !== undefined) alarm.value = value;
    if (message) alarm.message = message.slice(0, 200);
    const body = AlarmSchema.parse(alarm);
    if (state === 'raised') this.raisedAt.set(code, body);
    else this.raisedAt.delete(code);
    this.log.info({ code, state }, 'alarm');
    this.opts.sink('alarm', body);
  }
}

function severityOf(code: AlarmCode): Severity {
  return WARNING.has(code) ? 'warning' : 'critical';
}
