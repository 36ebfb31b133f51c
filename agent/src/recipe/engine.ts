import {
  type BrewerStatus,
  type Consumption,
  DEFAULT_STEP_TIMEOUT_MS,
  type ErrorCode,
  type Recipe,
  type RegisterKey,
  type SizeId,
} from '@crema/protocol';
import type { BrewerRejection } from '../drivers/brewer/serial-brewer';
import type { Brewer, BrewerEvent } from '../drivers/brewer/types';
import type { AuxBoards } from '../drivers/modbus/types';
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';
import { Bins } from '../monitor/bins';
import type { Clock, ClockTimer } from '../time/clock';
import { machineView } from './machine-view';
import { checkPreconditions } from './preconditions';
import { addConsumption, emptyConsumption, stepConsumption, stepRequest } from './steps';
import type { BrewProgress, BrewResult, RecipeRunner } from './types';

/** Coils switched off after any failed or aborted brew. The heater is left alone unless configured. */
export const ACTUATOR_COILS: readonly RegisterKey[] = [
  'pump',
  'brewValve',
  'steamValve',
  'grinder',
  'milkPump',
  'cupDropper',
];

export type RecipeEngineOptions = {
  brewer: Brewer;
  boards: AuxBoards;
  logger: Logger;
  salesLocked: () => boolean;
  /** How far below a brew step's temperature the boiler may be at the start. */
  boilerToleranceC?: number;
  /** Also switch the heater off on abort (default: keep it as it is). */
  heaterOffOnAbort?: boolean;
  stopTimeoutMs?: number;
  /** With a clock, `start()` also re-reads the brewer's STATUS this often, so `check` stays current. */
  clock?: Clock;
  statusRefreshMs?: number;
  /** Which bin holds which material; the five default kinds in bins 1 to 5 when absent. */
  bins?: Bins;
};

/** What a failed brew carries in AgentError `details`. */
export type BrewFailureDetails = {
  dispensed: Consumption;
  step?: number;
  op?: string;
  brewer?: BrewerRejection;
  cause?: string;
};

const BREWER_CODE_TO_ERROR: Partial<Record<BrewerRejection['code'], ErrorCode>> = {
  NO_CUP: 'NO_CUP',
  DOOR_OPEN: 'DOOR_OPEN',
  EMPTY: 'MATERIAL_INSUFFICIENT',
  NOT_HOT: 'BOILER_NOT_READY',
  FAULT: 'FAULT_ACTIVE',
  BUSY: 'MACHINE_BUSY',
};

/** Runs recipes on the brewer, one at a time, leaving every actuator off whenever a drink fails. */
export class RecipeEngine implements RecipeRunner {
  private running = false;
  private lastStatus: BrewerStatus | undefined;
  private readonly brewerFaults = new Set<string>();
  private unsubscribe: (() => void) | undefined;
  private refreshTimer: ClockTimer | undefined;
  private progressListener: ((e: BrewerEvent) => void) | undefined;
  private readonly log: Logger;
  private readonly bins: Bins;

  constructor(private readonly opts: RecipeEngineOptions) {
    this.log = opts.logger.child({ ns: 'agent:recipe' });
    this.bins = opts.bins ?? new Bins();
  }

  get busy(): boolean {
    return this.running;
  }

  /** Follows the brewer's fault and door events, and seeds (and with a clock, keeps refreshing) its STATUS. */
  async start(): Promise<void> {
    this.unsubscribe ??= this.opts.brewer.onEvent((e) => this.onBrewerEvent(e));
    const { clock } = this.opts;
    if (clock && !this.refreshTimer) {
      this.refreshTimer = clock.setInterval(() => this.refreshQuietly(), this.opts.statusRefreshMs ?? 5000);
    }
    await this.refreshQuietly();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.refreshTimer) this.opts.clock?.clearInterval(this.refreshTimer);
    this.refreshTimer = undefined;
  }

  /** Reads the brewer's STATUS into the cache the synchronous `check` uses. */
  async refresh(): Promise<void> {
    const status = await this.opts.brewer.status();
    this.lastStatus = status;
    this.brewerFaults.clear();
    for (const f of status.faults) this.brewerFaults.add(f);
  }

  check(recipe: Recipe, size: SizeId): ErrorCode | undefined {
    return this.running ? 'MACHINE_BUSY' : this.evaluate(recipe, size);
  }

  async brew(
    recipe: Recipe,
    size: SizeId,
    options: { onProgress?: (p: BrewProgress) => void; signal?: AbortSignal } = {},
  ): Promise<BrewResult> {
    if (this.running)
      throw new AgentError('MACHINE_BUSY', undefined, { details: { dispensed: emptyConsumption() } });
    this.running = true;
    const dispensed = emptyConsumption();
    const { brewer } = this.opts;
    const { signal, onProgress } = options;
    const scale = recipe.sizes.find((s) => s.id === size)?.scale ?? 1;
    const of = recipe.steps.length;
    let index = -1;
    let pct = 0;
    this.progressListener = (e) => {
      const step = recipe.steps[index];
      if (e.type !== 'progress' || !step || !sameOp(e.op, step.op)) return;
      pct = Math.max(pct, Math.min(100, e.pct));
      onProgress?.({ step: index + 1, of, op: step.op, pct });
    };
    const off = brewer.onEvent(this.progressListener);
    try {
      await this.refresh().catch((err: unknown) =>
        this.log.warn({ err: String(err) }, 'STATUS before brew failed'),
      );
      const code = this.evaluate(recipe, size);
      if (code)
        throw new AgentError(code, undefined, { details: { dispensed } satisfies BrewFailureDetails });
      for (const [i, step] of recipe.steps.entries()) {
        index = i;
        pct = 0;
        if (signal?.aborted) throw abortError(signal);
        const req = stepRequest(step, scale, (m) => this.bins.binOf(m)?.bin);
        onProgress?.({ step: i + 1, of, op: step.op, pct: 0 });
        let reply: Record<string, string>;
        try {
          reply = await brewer.request(req.verb, req.args, {
            timeoutMs: step.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS[step.op],
            signal,
          });
        } catch (err) {
          addConsumption(dispensed, stepConsumption(step, req, undefined, pct / 100));
          throw err;
        }
        addConsumption(dispensed, stepConsumption(step, req, reply, 1));
        onProgress?.({ step: i + 1, of, op: step.op, pct: 100 });
      }
      this.log.info({ recipe: recipe.id, size, dispensed }, 'drink made');
      return { dispensed };
    } catch (err) {
      const step = index >= 0 ? recipe.steps[index] : undefined;
      if (step) await this.safeAbort();
      throw this.failure(err, signal, dispensed, index, step?.op);
    } finally {
      // Bins without a sensor are accounted here: what the steps used, whether or not the drink was made.
      this.bins.book(dispensed);
      off();
      this.progressListener = undefined;
      this.running = false;
    }
  }

  private evaluate(recipe: Recipe, size: SizeId): ErrorCode | undefined {
    const view = machineView(
      this.opts.boards.snapshot(),
      this.lastStatus,
      this.brewerFaults,
      this.opts.brewer.connected,
      this.bins,
    );
    return checkPreconditions(recipe, size, view, {
      salesLocked: this.opts.salesLocked(),
      boilerToleranceC: this.opts.boilerToleranceC ?? 3,
    });
  }

  /** STOP to the brewer, then every actuator coil off; each attempted even if another fails. */
  private async safeAbort(): Promise<void> {
    const { brewer, boards } = this.opts;
    const coils = this.opts.heaterOffOnAbort ? [...ACTUATOR_COILS, 'heater' as const] : ACTUATOR_COILS;
    const results = await Promise.allSettled([
      brewer.request('STOP', {}, { timeoutMs: this.opts.stopTimeoutMs ?? 2000 }),
      ...coils.map((key) => boards.write(key, false)),
    ]);
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [i === 0 ? 'STOP' : coils[i - 1]] : [],
    );
    if (failed.length) this.log.error({ failed }, 'safe abort incomplete');
    else this.log.warn('brew aborted; brewer stopped and actuators off');
  }

  private failure(
    err: unknown,
    signal: AbortSignal | undefined,
    dispensed: Consumption,
    index: number,
    op: string | undefined,
  ): AgentError {
    const base: BrewFailureDetails = { dispensed };
    if (op) Object.assign(base, { step: index + 1, op });
    if (signal?.aborted) {
      return new AgentError('BREW_FAILED', `brew aborted${op ? ` at step ${index + 1} (${op})` : ''}`, {
        cause: err,
        details: { ...base, cause: 'ABORTED' },
      });
    }
    const e = AgentError.from(err, 'BREW_FAILED');
    if (!op) return new AgentError(e.code, e.message, { cause: e.cause ?? err, details: { ...base } });
    if (e.code === 'BREWER_REJECTED') {
      const rejection = e.details as BrewerRejection;
      const code = BREWER_CODE_TO_ERROR[rejection.code] ?? 'BREW_FAILED';
      return new AgentError(code, `step ${index + 1} (${op}) failed: ${e.message}`, {
        cause: err,
        details: { ...base, brewer: rejection, cause: e.code },
      });
    }
    return new AgentError(e.code, `step ${index + 1} (${op}) failed: ${e.message}`, {
      cause: err,
      details: { ...base, cause: e.code },
    });
  }

  /** Between drinks only: while one brews, `check` answers MACHINE_BUSY anyway. */
  private async refreshQuietly(): Promise<void> {
    if (this.running || !this.opts.brewer.connected) return;
    await this.refresh().catch((err: unknown) =>
      this.log.debug({ err: String(err) }, 'STATUS refresh failed'),
    );
  }

  private onBrewerEvent(e: BrewerEvent): void {
    if (e.type === 'ready' || (e.type === 'link' && e.state === 'up')) void this.refreshQuietly();
    if (e.type === 'fault') this.brewerFaults.add(e.code);
    else if (e.type === 'clear') this.brewerFaults.delete(e.code);
    else if (e.type === 'door' && this.lastStatus) this.lastStatus = { ...this.lastStatus, door: e.state };
  }
}

function sameOp(reported: string, op: string): boolean {
  return reported.toLowerCase() === op;
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}
