import { type BootloaderSlot, type Frame, sleep } from '@crema/protocol';
import type { Logger } from '../log';
import type { Machine } from '../model/machine';
import type { MachineSpec } from '../model/specs';
import { ok, type StepResult } from '../model/steps';
import type { Clock, ClockTimer } from '../time/clock';
import type { Bootloader } from './bootloader';
import type { BrewerImage } from './image';

export type BootTiming = {
  /** From REBOOT (or a crash) to the booted image's READY. */
  bootMs: number;
  /** How long a crashed image stays silent before the watchdog resets the controller. */
  watchdogMs: number;
  /** Time to program one FLASH chunk (a slow flash part makes this large). */
  flashMsPerChunk: number;
};

export const DEFAULT_BOOT_TIMING: BootTiming = { bootMs: 800, watchdogMs: 2000, flashMsPerChunk: 0 };

export const BOOTLOADER_VERBS = new Set([
  'BOOTLOADER',
  'FLASH',
  'VERIFY',
  'ACTIVATE',
  'REBOOT',
  'SLOTS',
  'CONFIRM',
]);
/** What the controller serves in bootloader mode besides the bootloader verbs. */
const SERVED_IN_BOOT = new Set(['PING', 'INFO']);

/**
 * Runs the brewer's images: executes the bootloader verbs, reboots, and makes the machine behave as the booted
 * image's program says (heater power, reported version, a crash the watchdog resets).
 */
export class BootRunner {
  /** True while the controller is rebooting or has crashed: nothing on the line is answered. */
  down = false;
  private timer: ClockTimer | undefined;
  private booted: (() => void) | undefined;

  constructor(
    private readonly bootloader: Bootloader,
    private readonly machine: Machine,
    private readonly baseSpec: MachineSpec,
    private readonly clock: Clock,
    private readonly timing: BootTiming,
    private readonly logger: Logger,
  ) {}

  /** Power-up: runs the confirmed image at once; `onBooted` is called after each later boot (to send READY). */
  start(onBooted: () => void): void {
    this.booted = onBooted;
    this.run(this.bootloader.nextBoot());
  }

  stop(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.booted = undefined;
  }

  /** Whether a request is answered with WRONG_MODE in the current mode. */
  refuses(verb: string): boolean {
    if (verb === 'CONFIRM') return this.bootloader.mode === 'boot';
    if (this.bootloader.mode === 'boot') return !BOOTLOADER_VERBS.has(verb) && !SERVED_IN_BOOT.has(verb);
    return false;
  }

  async execute(frame: Frame, busy: boolean): Promise<StepResult> {
    const a = frame.args as Record<string, unknown>;
    const bl = this.bootloader;
    const slot = a.slot as BootloaderSlot;
    switch (frame.verb) {
      case 'BOOTLOADER':
        return bl.enter(busy);
      case 'FLASH':
        if (this.timing.flashMsPerChunk > 0) await sleep(this.clock, this.timing.flashMsPerChunk);
        return bl.flash(slot, a.off as number, a.data as string, a.crc as string);
      case 'VERIFY':
        return bl.verify(slot, a.size as number, a.sha256 as string);
      case 'ACTIVATE':
        return bl.activate(slot);
      case 'SLOTS':
        return ok(bl.table());
      case 'CONFIRM':
        return bl.confirm();
      case 'REBOOT':
        this.reboot('requested');
        return ok();
      default:
        return { ok: false, code: 'BAD_ARGS', msg: `unknown verb ${frame.verb}` };
    }
  }

  /** Resets the controller: the line goes silent, then the bootloader picks a slot and that image runs. */
  reboot(why: string): void {
    this.down = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.logger.info({ why }, 'controller reset');
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.run(this.bootloader.nextBoot());
      if (!this.down) this.booted?.();
    }, this.timing.bootMs);
  }

  private run(image: BrewerImage): void {
    const p = image.program;
    this.logger.info({ slot: this.bootloader.running, version: image.version }, 'image boots');
    if (p.crashAfterMs === 0) {
      // Dies before it can speak: only the watchdog brings the controller back.
      this.down = true;
      this.timer = this.clock.setTimeout(() => this.reboot('watchdog'), this.timing.watchdogMs);
      return;
    }
    const base = this.baseSpec;
    const power = p.heaterPct / 100;
    this.machine.spec = {
      ...base,
      fw: p.reportsVersion ?? image.version,
      heaterPlateauC: base.ambientC + (base.heaterPlateauC - base.ambientC) * power,
      heatRateCps: base.heatRateCps * power,
    };
    this.down = false;
    if (p.crashAfterMs !== undefined)
      this.timer = this.clock.setTimeout(() => this.reboot('crash'), p.crashAfterMs);
  }
}
