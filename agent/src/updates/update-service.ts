import { readFile } from 'node:fs/promises';
import {
  type ArtifactKind,
  type ArtifactManifest,
  checkApplicable,
  type ErrorCode,
  SemverSchema,
  type TrustStore,
  type UpgradeParams,
  verifyManifest,
} from '@crema/protocol';
import type { CommandOf, HandlerOutcome } from '../commands/types';
import { BootloaderClient, otherSlot } from '../drivers/brewer/bootloader-client';
import type { Brewer } from '../drivers/brewer/types';
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';
import { UPDATE_LOCK_KEY } from '../orders/order-service';
import type { Store } from '../store/store';
import { type Clock, sleep } from '../time/clock';
import { AgentInstaller } from './agent-install';
import { DEFAULT_HEALTH_CHECK, type HealthCheckOptions } from './brewer-health';
import type { ArtifactDownloader } from './download';
import {
  DEFAULT_FIRMWARE_TIMING,
  FirmwareInstaller,
  type FirmwareTiming,
  type InstallOutcome,
} from './firmware-install';
import { UpdateJournal, type UpdateRow } from './journal';
import type { ReleaseSlots } from './release-slots';

export type UpgradeCommand = CommandOf<'upgrade_firmware'> | CommandOf<'upgrade_agent'>;

export type UpdateServiceOptions = {
  store: Pick<Store, 'db' | 'outbox' | 'settings'>;
  /** The device's update trust store (keys-artifacts); undefined: no update is accepted at all. */
  trust: () => TrustStore | undefined;
  downloader: ArtifactDownloader;
  brewer?: Brewer;
  /** The agent's release slots (agent-slots); without them `upgrade_agent` is refused. */
  slots?: ReleaseSlots;
  /** The configured machine model: what an agent release must be built for. */
  model: string;
  /** True while a drink or a payment is in progress: the install waits for it. */
  busy: () => boolean;
  /** True while the hub is reachable; a trial agent release is confirmed once it is. */
  hubConnected?: () => boolean;
  /** Ends this process so that the launcher starts the activated release (after the journal says so). */
  restartAgent?: () => void;
  clock: Clock;
  logger: Logger;
  health?: Partial<HealthCheckOptions>;
  timing?: Partial<FirmwareTiming>;
  idleCheckMs?: number;
};

const KIND_OF = { upgrade_firmware: 'brewer-firmware', upgrade_agent: 'agent' } as const;

/**
 * Brewer firmware and agent updates on this machine, one at a time, driven by the update journal: a command
 * starts an install, a restart resumes the unfinished one where it stopped (or rolls it back), and the final
 * `update_progress` record is written once, with the journal's end. Sales stay open while the artifact
 * downloads and are locked from the moment the target is written until the install ended.
 */
export class UpdateService {
  readonly journal: UpdateJournal;
  private readonly log: Logger;
  private readonly firmware: FirmwareInstaller | undefined;
  private readonly agent: AgentInstaller | undefined;
  private current: { id: number; done: Promise<UpdateRow> } | undefined;
  private abort = new AbortController();
  private unsubscribe: (() => void) | undefined;
  private settling = false;

  constructor(private readonly o: UpdateServiceOptions) {
    this.journal = new UpdateJournal(o.store.db, o.store.outbox, () => o.clock.now());
    this.log = o.logger.child({ ns: 'agent:updates' });
    const health = { ...DEFAULT_HEALTH_CHECK, ...o.health };
    const timing = { ...DEFAULT_FIRMWARE_TIMING, ...o.timing };
    this.firmware = o.brewer
      ? new FirmwareInstaller({
          brewer: o.brewer,
          journal: this.journal,
          clock: o.clock,
          logger: o.logger,
          health,
          timing,
        })
      : undefined;
    this.agent = o.slots
      ? new AgentInstaller({
          slots: o.slots,
          journal: this.journal,
          clock: o.clock,
          logger: o.logger,
          hubConnected: o.hubConnected ?? (() => false),
        })
      : undefined;
  }

  /** Resumes the install a stop or a crash interrupted (in the background: the agent starts meanwhile). */
  start(): void {
    if (this.abort.signal.aborted) this.abort = new AbortController();
    this.unsubscribe ??= this.o.brewer?.onEvent((e) => {
      if (e.type === 'ready' || (e.type === 'link' && e.state === 'up')) void this.settleBrewer();
    });
    void this.settleBrewer();
    const row = this.journal.active();
    if (!row) {
      // A lock no install holds any more (a journal written by an older agent): sales open again.
      if (this.o.store.settings.get<boolean>(UPDATE_LOCK_KEY))
        this.o.store.settings.set(UPDATE_LOCK_KEY, false);
      return;
    }
    if (this.current) return;
    this.log.warn(
      { rolloutId: row.rolloutId, kind: row.kind, version: row.version, step: row.step },
      'resuming an update',
    );
    this.launch(row).done.catch(() => undefined);
  }

  /** Interrupts the running install where it is; the journal resumes it on the next start. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.abort.abort(new AgentError('UNAVAILABLE', 'agent stopping'));
    await this.current?.done.catch(() => undefined);
  }

  /**
   * With no install under way, a brewer left in its bootloader, or running a trial image nobody will confirm
   * (an install that ended while the brewer could not be reached), is brought back to its confirmed image.
   */
  private async settleBrewer(): Promise<void> {
    const brewer = this.o.brewer;
    if (!brewer?.connected || this.settling || this.current || this.journal.active()) return;
    this.settling = true;
    try {
      const boot = new BootloaderClient(brewer, this.o.clock);
      const s = await boot.slots();
      if (this.current) return;
      if (s.mode === 'boot') {
        this.log.warn('brewer left in its bootloader with no update under way: rebooting it');
        await boot.reboot();
      } else if (s.pending !== '' && s.pending === s.active) {
        this.log.warn(
          { trial: s.active },
          'brewer runs an unconfirmed trial with no update under way: rolling back',
        );
        await boot.enter();
        await boot.activate(otherSlot(s.active));
        await boot.reboot();
      }
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'brewer slots not checked');
    } finally {
      this.settling = false;
    }
  }

  /** The `upgrade_firmware` / `upgrade_agent` handler's work: resolves with the install's outcome. */
  async handle(command: UpgradeCommand): Promise<HandlerOutcome> {
    const kind = KIND_OF[command.kind];
    const params: UpgradeParams = command.params;
    const known = this.journal.byKey(command.idempotencyKey);
    if (known) return this.outcomeOf(await this.settle(known));
    const active = this.journal.active();
    if (active) {
      const same = active.rolloutId === params.rolloutId && active.kind === kind;
      if (!same)
        throw new AgentError('UPDATE_IN_PROGRESS', `${active.kind} ${active.version} is being installed`);
      return this.outcomeOf(await this.settle(active));
    }
    let manifest: ArtifactManifest;
    let fromVersion = '0.0.0';
    try {
      const trust = this.o.trust();
      if (!trust) throw new AgentError('UPDATE_KEY_UNKNOWN', 'this machine has no update trust store');
      ({ value: manifest } = await verifyManifest(params.manifest, trust));
      const installed = await this.installed(kind);
      fromVersion = installed.version;
      const before = this.journal.finished(params.rolloutId, kind, manifest.version);
      if (before?.stage === 'succeeded' && installed.version === manifest.version)
        return this.outcomeOf(before);
      checkApplicable(manifest, { ...installed, kind, floor: this.journal.floor(kind) });
    } catch (err) {
      // Refused before anything was fetched or written: reported once, as failed with its code.
      const e = AgentError.from(err, 'UPDATE_SIGNATURE_INVALID');
      const row = this.journal.begin(
        this.newRow(command, kind, peekVersion(params.manifest), fromVersion),
        'verifying',
      );
      this.journal.finish(row.id, { stage: 'failed', reason: e.code, detail: e.message });
      throw e;
    }
    const row = this.journal.begin(this.newRow(command, kind, manifest.version, fromVersion), 'downloading');
    return this.outcomeOf(await this.launch(row).done);
  }

  private newRow(command: UpgradeCommand, kind: ArtifactKind, version: string, fromVersion: string) {
    return {
      commandKey: command.idempotencyKey,
      command,
      rolloutId: command.params.rolloutId,
      kind,
      version,
      fromVersion,
      manifest: command.params.manifest,
    };
  }

  /** What runs now, as `checkApplicable` needs it. */
  private async installed(kind: ArtifactKind): Promise<{ model: string; version: string }> {
    if (kind === 'agent') {
      if (!this.o.slots || !this.o.restartAgent)
        throw new AgentError('COMMAND_FAILED', 'agent self-update is not set up on this machine');
      return { model: this.o.model, version: this.o.slots.running().version };
    }
    const brewer = this.o.brewer;
    if (!brewer?.connected) throw new AgentError('BREWER_DISCONNECTED', 'the brewer does not answer');
    const info = await brewer.request('INFO', {}, { timeoutMs: 2_000 });
    if (!info.fw || !info.model) throw new AgentError('BREWER_REJECTED', 'INFO names no version or model');
    return { model: info.model, version: info.fw };
  }

  /** Joins the install of this row: the running one, or a finished one as recorded. */
  private async settle(row: UpdateRow): Promise<UpdateRow> {
    if (row.finishedAt !== null) return row;
    if (this.current?.id === row.id) return this.current.done;
    return this.launch(row).done;
  }

  private launch(row: UpdateRow): { id: number; done: Promise<UpdateRow> } {
    if (this.current) return this.current;
    const current = { id: row.id, done: this.pipeline(row, this.abort.signal) };
    this.current = current;
    current.done.then(
      () => {
        if (this.current === current) this.current = undefined;
      },
      () => {
        if (this.current === current) this.current = undefined;
      },
    );
    return current;
  }

  private async pipeline(start: UpdateRow, signal: AbortSignal): Promise<UpdateRow> {
    let row = start;
    let manifest: ArtifactManifest | undefined;
    try {
      const trust = this.o.trust();
      if (!trust) throw new AgentError('UPDATE_KEY_UNKNOWN', 'this machine has no update trust store');
      manifest = (await verifyManifest(row.manifest, trust)).value;
      let file: string | undefined;
      if (row.step === 'download' || row.step === 'install') {
        file = await this.fetch(row, manifest, signal);
        row = await this.lockWhenIdle(row, signal);
      }
      let outcome: InstallOutcome;
      if (row.kind === 'brewer-firmware') {
        if (!this.firmware) throw new AgentError('BREWER_DISCONNECTED', 'no brewer on this machine');
        const image = file ? new Uint8Array(await readFile(file)) : new Uint8Array(0);
        outcome = await this.firmware.run(row, image, manifest.sha256, signal);
      } else {
        if (!this.agent) throw new AgentError('COMMAND_FAILED', 'agent self-update is not set up');
        const out = await this.agent.run(row, file, signal);
        if (out.stage === 'restart') {
          this.o.restartAgent?.();
          // This process ends here; the next one finishes the journal. Wait for the stop.
          await sleep(this.o.clock, 24 * 3600_000, signal);
          throw new AgentError('UNAVAILABLE', 'the agent did not restart');
        }
        outcome = out;
      }
      return await this.end(row, outcome, manifest);
    } catch (err) {
      if (signal.aborted) throw err;
      const e = AgentError.from(err, 'COMMAND_FAILED');
      this.log.error({ rolloutId: row.rolloutId, code: e.code, err: e.message }, 'update failed');
      return this.end(row, { stage: 'failed', reason: e.code, detail: e.message }, manifest);
    }
  }

  private async fetch(row: UpdateRow, manifest: ArtifactManifest, signal: AbortSignal): Promise<string> {
    const { downloader } = this.o;
    for (let attempt = 1; ; attempt++) {
      // Bytes staged before a crash or power cut are trusted only as far as the hash says: if a resumed
      // download does not verify, it is fetched once more from the start before the update fails.
      const resumed = (await downloader.staged(manifest.sha256)) > 0;
      let lastQuarter = -1;
      await downloader.download(
        manifest,
        (bytes) => {
          const quarter = Math.floor((bytes / manifest.size) * 4);
          if (quarter !== lastQuarter && quarter < 4) {
            lastQuarter = quarter;
            this.journal.advance(row.id, {}, { pct: quarter * 25 });
          }
        },
        signal,
      );
      this.journal.advance(row.id, { stage: 'verifying' });
      try {
        return await downloader.verify(manifest);
      } catch (err) {
        if (!resumed || attempt >= 2 || (err as AgentError).code !== 'UPDATE_HASH_MISMATCH') throw err;
        this.log.warn({ sha256: manifest.sha256 }, 'resumed download does not verify; fetching it afresh');
        this.journal.advance(row.id, { stage: 'downloading' });
      }
    }
  }

  /** Waits until no drink or payment is in progress, then locks sales in the same step as the install begins. */
  private async lockWhenIdle(row: UpdateRow, signal: AbortSignal): Promise<UpdateRow> {
    while (this.o.busy()) await sleep(this.o.clock, this.o.idleCheckMs ?? 250, signal);
    return this.journal.advance(
      row.id,
      { step: 'install', stage: 'installing' },
      { also: () => this.o.store.settings.set(UPDATE_LOCK_KEY, true) },
    );
  }

  private async end(
    row: UpdateRow,
    outcome: InstallOutcome,
    manifest?: ArtifactManifest,
  ): Promise<UpdateRow> {
    const done = this.journal.finish(row.id, outcome, {
      ...(outcome.stage === 'succeeded' && manifest ? { floor: manifest.minVersion } : {}),
      also: () => this.o.store.settings.set(UPDATE_LOCK_KEY, false),
    });
    this.log.info(
      {
        rolloutId: row.rolloutId,
        kind: row.kind,
        version: row.version,
        stage: done.stage,
        reason: done.reason,
      },
      'update ended',
    );
    if (manifest) await this.o.downloader.discard(manifest.sha256).catch(() => undefined);
    return done;
  }

  /** The command's result from a finished install: succeeded, or failed with the install's reason. */
  private outcomeOf(row: UpdateRow): HandlerOutcome {
    if (row.stage === 'succeeded')
      return {
        output: { kind: row.kind, version: row.version, fromVersion: row.fromVersion, stage: row.stage },
      };
    const code: ErrorCode = row.reason ?? 'COMMAND_FAILED';
    throw new AgentError(code, `${row.stage}: ${row.detail ?? code}`, {
      details: { stage: row.stage, version: row.version },
    });
  }
}

/** The version a manifest claims, for reporting a refusal (never trusted for anything else). */
function peekVersion(jws: string): string {
  try {
    const payload = jws.split('.')[1] ?? '';
    const version = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { version?: unknown })
      .version;
    return SemverSchema.safeParse(version).success ? (version as string) : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
