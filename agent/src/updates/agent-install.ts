import { isErrorCode } from '@crema/protocol';
import type { Logger } from '../log/logger';
import { type Clock, sleep } from '../time/clock';
import type { InstallOutcome } from './firmware-install';
import type { UpdateJournal, UpdateRow } from './journal';
import type { ReleaseSlots } from './release-slots';

export type AgentInstallOptions = {
  slots: ReleaseSlots;
  journal: UpdateJournal;
  clock: Clock;
  logger: Logger;
  /** True once this process reaches the hub (MQTT or HTTP): what makes a trial release good. */
  hubConnected: () => boolean;
};

/** The install handed over to the launcher: this process must exit so the trial release starts. */
export type Restart = { stage: 'restart' };

/**
 * The agent's own update over two release slots: stage the verified release, activate it, exit; the launcher
 * starts it on trial. On the next start the journal and `slots.outcome()` say how it went: a trial that
 * reaches the hub is confirmed (succeeded), a trial the launcher gave up on is `rolled_back` with its reason.
 */
export class AgentInstaller {
  private readonly log: Logger;

  constructor(private readonly o: AgentInstallOptions) {
    this.log = o.logger.child({ ns: 'agent:updates:agent' });
  }

  async run(
    start: UpdateRow,
    file: string | undefined,
    signal?: AbortSignal,
  ): Promise<InstallOutcome | Restart> {
    const { journal, slots } = this.o;
    let row = start;
    if (row.step === 'download' || row.step === 'install') {
      if (!file) throw new Error('the agent release is not staged');
      row = journal.advance(row.id, { step: 'install', stage: 'installing' });
      await slots.stage(file, row.version);
      row = journal.advance(row.id, { step: 'switch' });
    }
    const outcome = slots.outcome();
    const running = slots.running().version;
    if (outcome.kind === 'rolled_back' && outcome.version === row.version) {
      return {
        stage: 'rolled_back',
        reason: isErrorCode(outcome.reason) ? outcome.reason : 'UPDATE_BOOT_FAILED',
        detail: outcome.reason,
      };
    }
    if (outcome.kind === 'trial' && outcome.version === row.version) {
      journal.advance(row.id, { step: 'check', stage: 'health_checking' });
      while (!this.o.hubConnected()) await sleep(this.o.clock, 250, signal);
      await slots.confirm();
      return { stage: 'succeeded' };
    }
    if (running === row.version) return { stage: 'succeeded' }; // confirmed before a restart
    if (row.step === 'check') {
      // This process was the trial and is gone; the launcher went back to the previous release.
      return {
        stage: 'rolled_back',
        reason: 'UPDATE_BOOT_FAILED',
        detail: `${row.version} did not confirm; ${running} runs again`,
      };
    }
    // Staged but not switched yet (or the switch did not stick): switch and hand over to the launcher.
    journal.advance(row.id, { step: 'switch', stage: 'rebooting' });
    await slots.activate(row.version);
    this.log.warn({ version: row.version, from: running }, 'agent release activated; restarting into it');
    return { stage: 'restart' };
  }
}
