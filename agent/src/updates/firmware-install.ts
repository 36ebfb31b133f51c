import type { BootloaderSlot, BootloaderSlots, ErrorCode } from '@crema/protocol';
import { BootloaderClient, brewerCode, isLinkError, otherSlot } from '../drivers/brewer/bootloader-client';
import type { Brewer } from '../drivers/brewer/types';
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';
import type { Clock } from '../time/clock';
import { checkBrewerHealth, type HealthCheckOptions } from './brewer-health';
import type { UpdateJournal, UpdateRow } from './journal';

export type FirmwareTiming = {
  /** How long a dropped brewer link is waited for before the install gives up (UPDATE_LINK_LOST). */
  linkWaitMs: number;
  /** From REBOOT to the controller answering; covers a trial image crashing until the bootloader falls back. */
  bootWaitMs: number;
};

export const DEFAULT_FIRMWARE_TIMING: FirmwareTiming = { linkWaitMs: 120_000, bootWaitMs: 120_000 };

/** How an install ended, before it is recorded. */
export type InstallOutcome =
  | { stage: 'succeeded' }
  | { stage: 'rolled_back' | 'failed'; reason: ErrorCode; detail: string };

export type FirmwareInstallOptions = {
  brewer: Brewer;
  journal: UpdateJournal;
  clock: Clock;
  logger: Logger;
  health: HealthCheckOptions;
  timing: FirmwareTiming;
};

const failed = (reason: ErrorCode, detail: string): InstallOutcome => ({ stage: 'failed', reason, detail });

/**
 * Installs a verified brewer image through the bootloader, one journal step at a time, so that a restart at
 * any moment continues from the step it was in: `install` writes the inactive slot (resuming from what the
 * slot holds), `switch` activates it and reboots, `check` runs the health check and confirms, `rollback`
 * starts the previous slot again. The running slot is never written; until CONFIRM the bootloader falls back
 * to it by itself.
 */
export class FirmwareInstaller {
  private readonly boot: BootloaderClient;
  private readonly log: Logger;

  constructor(private readonly o: FirmwareInstallOptions) {
    this.boot = new BootloaderClient(o.brewer, o.clock);
    this.log = o.logger.child({ ns: 'agent:updates:firmware' });
  }

  async run(
    start: UpdateRow,
    image: Uint8Array,
    sha256: string,
    signal?: AbortSignal,
  ): Promise<InstallOutcome> {
    let row = start;
    for (let round = 0; round < 50; round++) {
      if (signal?.aborted) throw signal.reason;
      try {
        switch (row.step) {
          case 'download':
          case 'install': {
            const out = await this.install(row, image, sha256, signal);
            if (out) return out;
            break;
          }
          case 'switch': {
            const out = await this.switchTo(row, signal);
            if (out) return out;
            break;
          }
          case 'check': {
            const out = await this.check(row, signal);
            if (out) return out;
            break;
          }
          case 'rollback': {
            const out = await this.rollback(row, signal);
            if (out) return out;
            break;
          }
          case 'done':
            return { stage: 'succeeded' };
        }
      } catch (err) {
        if (!isLinkError(err) || signal?.aborted) throw err;
        // The link dropped mid-step: wait for the controller, then redo the step from what SLOTS says.
        this.log.warn({ step: row.step, err: (err as Error).message }, 'brewer link lost during the update');
        await this.boot.awaitController(this.o.timing.linkWaitMs, signal);
      }
      row = this.o.journal.get(row.id) ?? row;
    }
    throw new AgentError('INTERNAL', 'the firmware install did not settle');
  }

  /** Writes and verifies the inactive slot; the running slot is never touched. */
  private async install(
    row: UpdateRow,
    image: Uint8Array,
    sha256: string,
    signal?: AbortSignal,
  ): Promise<InstallOutcome | undefined> {
    const { journal } = this.o;
    let s = await this.boot.awaitController(this.o.timing.linkWaitMs, signal);
    const slot = (row.slot as BootloaderSlot | null) ?? otherSlot(s.active);
    const prev = (row.prevSlot as BootloaderSlot | null) ?? s.active;
    if (s.active === slot) {
      // Only possible if the slots changed behind our back: never write what runs.
      return failed('UPDATE_IMAGE_INVALID', `slot ${slot} is the running slot`);
    }
    row = journal.advance(row.id, { step: 'install', stage: 'installing', slot, prevSlot: prev });
    if (s.mode === 'app') {
      await this.boot.enter();
      s = await this.boot.slots();
    }
    const held = slot === 'a' ? s.a_len : s.b_len;
    let from = row.flashing ? Math.min(held, image.length) : 0;
    for (let attempt = 1; ; attempt++) {
      let lastPct = -1;
      await this.boot.flash(
        slot,
        image,
        from,
        (written) => {
          if (!row.flashing) row = journal.advance(row.id, { flashing: true });
          const pct = Math.floor((written / image.length) * 10) * 10;
          if (pct !== lastPct && pct < 100) {
            lastPct = pct;
            journal.advance(row.id, {}, { pct });
          }
        },
        signal,
      );
      try {
        await this.boot.verify(slot, image.length, sha256);
        break;
      } catch (err) {
        const code = brewerCode(err);
        if (code !== 'BAD_IMAGE') throw err;
        // A resumed write may have joined bytes of an earlier attempt: write it whole once more.
        if (attempt >= 2 || from === 0) {
          await this.leaveBootloader();
          return failed(
            'UPDATE_IMAGE_INVALID',
            `the brewer refused the written image: ${(err as Error).message}`,
          );
        }
        from = 0;
      }
    }
    journal.advance(row.id, { step: 'switch' });
    return undefined;
  }

  /** Activates the written slot and reboots into it, or notices that this already happened. */
  private async switchTo(row: UpdateRow, signal?: AbortSignal): Promise<InstallOutcome | undefined> {
    const { journal } = this.o;
    const slot = row.slot as BootloaderSlot;
    let s = await this.boot.awaitController(this.o.timing.linkWaitMs, signal);
    if (s.mode === 'app' && s.active === slot) {
      journal.advance(row.id, { step: 'check' });
      return undefined;
    }
    if (s.mode === 'app' && s.fell_back) return this.bootFailed(row, s);
    if (s.mode === 'app') {
      await this.boot.enter();
      s = await this.boot.slots();
    }
    const state = slot === 'a' ? s.a_state : s.b_state;
    if (state !== 'verified') {
      // The slot lost its image (a power cut of the controller mid-write): write it again.
      journal.advance(row.id, { step: 'install', flashing: false });
      return undefined;
    }
    if (s.pending !== slot) await this.boot.activate(slot);
    journal.advance(row.id, { stage: 'rebooting' });
    await this.boot.reboot();
    s = await this.awaitBoot(signal);
    journal.advance(row.id, { step: 'check' });
    return undefined;
  }

  /** The health check of the trial image; CONFIRM when it passes, a rollback when not. */
  private async check(row: UpdateRow, signal?: AbortSignal): Promise<InstallOutcome | undefined> {
    const { journal } = this.o;
    const slot = row.slot as BootloaderSlot;
    const s = await this.awaitBoot(signal);
    if (s.active !== slot) return this.bootFailed(row, s);
    if (s.pending === '') return { stage: 'succeeded' }; // confirmed before a restart
    row = journal.advance(row.id, { stage: 'health_checking' });
    const info = await this.boot.info();
    try {
      await checkBrewerHealth(
        this.o.brewer,
        this.o.clock,
        { version: row.version, model: info.model ?? '' },
        this.o.health,
        signal,
      );
    } catch (err) {
      if (isLinkError(err)) {
        // The image stopped answering mid-check: a crash. Let the bootloader's fallback or our rollback decide.
        const after = await this.awaitBoot(signal);
        if (after.active !== slot) return this.bootFailed(row, after);
        throw err;
      }
      const e = AgentError.from(err, 'HEALTH_CHECK_FAILED');
      this.log.warn({ version: row.version, reason: e.message }, 'health check failed; rolling back');
      journal.advance(row.id, {
        step: 'rollback',
        reason: e.code === 'HEALTH_CHECK_FAILED' ? e.code : 'HEALTH_CHECK_FAILED',
        detail: e.message,
      });
      return undefined;
    }
    await this.boot.confirm();
    return { stage: 'succeeded' };
  }

  /** Starts the previous slot again: BOOTLOADER, ACTIVATE it, REBOOT; done when it runs with no trial. */
  private async rollback(row: UpdateRow, signal?: AbortSignal): Promise<InstallOutcome | undefined> {
    const prev = row.prevSlot as BootloaderSlot;
    const rolledBack = (): InstallOutcome => ({
      stage: 'rolled_back',
      reason: row.reason ?? 'HEALTH_CHECK_FAILED',
      detail: row.detail ?? 'health check failed',
    });
    let s = await this.awaitBoot(signal);
    if (s.mode === 'app' && s.active === prev && s.pending === '') return rolledBack();
    if (s.mode === 'app') {
      await this.boot.enter();
      s = await this.boot.slots();
    }
    await this.boot.activate(prev);
    await this.boot.reboot();
    s = await this.awaitBoot(signal);
    if (s.active === prev && s.pending === '') return rolledBack();
    return undefined;
  }

  /** The trial image never came up: the bootloader started the previous slot again by itself. */
  private bootFailed(row: UpdateRow, s: BootloaderSlots): InstallOutcome {
    const fw = s.active === 'a' ? s.a_fw : s.b_fw;
    return {
      stage: 'rolled_back',
      reason: 'UPDATE_BOOT_FAILED',
      detail: `${row.version} did not start; the bootloader fell back to slot ${s.active} (${fw})`,
    };
  }

  /** After a reboot: the controller answers in application mode (any image: the trial or the fallback). */
  private async awaitBoot(signal?: AbortSignal): Promise<BootloaderSlots> {
    const until = this.o.clock.now() + this.o.timing.bootWaitMs;
    for (;;) {
      const s = await this.boot.awaitController(Math.max(1, until - this.o.clock.now()), signal);
      if (s.mode === 'app') return s;
      if (this.o.clock.now() >= until)
        throw new AgentError('UPDATE_LINK_LOST', 'the brewer stays in its bootloader');
      // Still in bootloader mode (a restart between ACTIVATE and REBOOT): send the reboot.
      await this.boot.reboot();
    }
  }

  /** Back to application mode on the slot that ran (a failed write leaves the controller usable). */
  private async leaveBootloader(): Promise<void> {
    try {
      await this.boot.reboot();
      await this.awaitBoot();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'brewer did not come back after leaving the bootloader');
    }
  }
}
