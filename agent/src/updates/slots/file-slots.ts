import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { systemClock } from '@crema/protocol';
import { AgentError } from '../../errors';
import type { Clock } from '../../time/clock';
import type { ReleaseSlots, SlotName, StartOutcome } from '../release-slots';
import { ConfirmedMessageSchema, type ReadyMessage } from './messages';
import { otherSlot, type Pointer, readPointer, writePointer } from './pointer';
import { readRelease, tryReadRelease, writeRelease } from './release-dir';
import { activateTrial, confirmTrial, forgetLast } from './transitions';

/** The IPC channel to the launcher (the process itself when it was started with one). */
export type LauncherChannel = {
  send(message: ReadyMessage): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
};

export type FileReleaseSlotsOptions = {
  /** The layout's root (`<root>/slots/{a,b}`, `<root>/state.json`). */
  root: string;
  /** The slot this process runs from (the launcher says so in CREMA_RELEASE_SLOT); default: the active one. */
  slot?: SlotName;
  clock?: Clock;
  /** Set when a launcher started this process: `confirm()` then goes through it, the pointer's one writer then. */
  launcher?: LauncherChannel;
  /** How long `confirm()` waits for the launcher's answer. */
  confirmTimeoutMs?: number;
};

/**
 * The release slots on disk (see agent/README.md, "Self-update"). `open()` reads the pointer once: `running()`
 * and `outcome()` describe this start. Every change is one durable rename, so a power cut leaves either the
 * old pointer or the new one, each naming a complete release.
 */
export class FileReleaseSlots implements ReleaseSlots {
  private confirming: Promise<void> | undefined;
  private confirmedResolve!: () => void;
  private readonly confirmed = new Promise<void>((resolve) => {
    this.confirmedResolve = resolve;
  });
  private readonly clock: Clock;

  private constructor(
    private readonly o: FileReleaseSlotsOptions,
    private readonly slot: SlotName,
    private readonly version: string,
    private readonly atStart: StartOutcome,
  ) {
    this.clock = o.clock ?? systemClock;
    if (atStart.kind !== 'trial') this.confirmedResolve();
  }

  static open(o: FileReleaseSlotsOptions): FileReleaseSlots {
    const pointer = readPointer(o.root);
    if (!pointer) {
      throw new AgentError(
        'UPDATE_IMAGE_INVALID',
        `no release pointer in ${o.root} (install a release first)`,
      );
    }
    const slot = o.slot ?? pointer.active;
    const version = tryReadRelease(o.root, slot)?.version ?? 'unknown';
    return new FileReleaseSlots(o, slot, version, outcomeOf(pointer, slot));
  }

  running(): { slot: SlotName; version: string } {
    return { slot: this.slot, version: this.version };
  }

  outcome(): StartOutcome {
    return this.atStart;
  }

  /** Resolves once this start is confirmed (at once for a start that is not a trial, after `confirm()`). */
  whenConfirmed(): Promise<void> {
    return this.confirmed;
  }

  async stage(file: string, version: string): Promise<void> {
    const pointer = this.current();
    if (pointer.trial) {
      throw new AgentError(
        'CONFLICT',
        `release ${pointer.trial.version} is on trial; stage after it is resolved`,
      );
    }
    if (pointer.active !== this.slot) {
      throw new AgentError(
        'CONFLICT',
        `this agent runs from slot ${this.slot} but slot ${pointer.active} is active`,
      );
    }
    if (pointer.last) writePointer(this.o.root, forgetLast(pointer));
    const expected = createHash('sha256').update(readFileSync(file)).digest('hex');
    const meta = await writeRelease(this.o.root, otherSlot(this.slot), file, version, this.clock.now());
    if (meta.sha256 !== expected) {
      throw new AgentError(
        'UPDATE_IMAGE_INVALID',
        `the copy in slot ${otherSlot(this.slot)} differs from ${file}`,
      );
    }
  }

  async activate(version: string): Promise<void> {
    await this.confirming;
    const pointer = this.current();
    const slot = otherSlot(this.slot);
    const staged = readRelease(this.o.root, slot);
    if (staged.version !== version) {
      throw new AgentError('CONFLICT', `slot ${slot} holds release ${staged.version}, not ${version}`);
    }
    writePointer(
      this.o.root,
      activateTrial(pointer, { slot, version }, { version: this.version }, this.clock.now()),
    );
  }

  confirm(): Promise<void> {
    this.confirming ??= (
      this.o.launcher ? this.confirmThroughLauncher(this.o.launcher) : this.confirmHere()
    ).then(() => this.confirmedResolve());
    return this.confirming;
  }

  private async confirmHere(): Promise<void> {
    const pointer = this.current();
    if (pointer.trial?.slot === this.slot) writePointer(this.o.root, confirmTrial(pointer, this.clock.now()));
  }

  /** The launcher writes the pointer while it supervises a trial, so the confirmation is its to record. */
  private confirmThroughLauncher(channel: LauncherChannel): Promise<void> {
    const id = this.clock.now();
    const timeoutMs = this.o.confirmTimeoutMs ?? 10_000;
    return new Promise<void>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        channel.off('message', onMessage);
        reject(
          new AgentError(
            'UNAVAILABLE',
            `the launcher did not answer the confirmation within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const onMessage = (raw: unknown) => {
        const parsed = ConfirmedMessageSchema.safeParse(raw);
        if (!parsed.success || parsed.data.id !== id) return;
        this.clock.clearTimeout(timer);
        channel.off('message', onMessage);
        if (parsed.data.ok) resolve();
        else
          reject(
            new AgentError('INTERNAL', `the launcher could not confirm: ${parsed.data.error ?? 'unknown'}`),
          );
      };
      channel.on('message', onMessage);
      channel.send({ type: 'crema.ready', id });
    });
  }

  private current(): Pointer {
    const pointer = readPointer(this.o.root);
    if (!pointer)
      throw new AgentError('UPDATE_IMAGE_INVALID', `the release pointer in ${this.o.root} is gone`);
    return pointer;
  }
}

function outcomeOf(p: Pointer, slot: SlotName): StartOutcome {
  if (p.trial?.slot === slot) {
    return { kind: 'trial', version: p.trial.version, fromVersion: p.trial.from.version };
  }
  if (p.last?.kind === 'rolled_back' && p.active === slot) {
    return {
      kind: 'rolled_back',
      version: p.last.version,
      fromVersion: p.last.fromVersion,
      reason: p.last.reason ?? '',
    };
  }
  return { kind: 'normal' };
}
