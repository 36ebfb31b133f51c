import { copyFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReleaseSlots, SlotName, StartOutcome } from '../../src/updates/release-slots';

type State = {
  active: SlotName;
  versions: Partial<Record<SlotName, string>>;
  pending?: { slot: SlotName; version: string; fromVersion: string };
};

/**
 * A small real ReleaseSlots over a directory (two release files and a pointer file written atomically), with
 * `launch()` playing the launcher at the next start: a pending release starts on trial, or, when the trial is
 * to fail, the previous one starts again and the outcome says why. The production slots are agent-slots' work.
 */
export class DirSlots implements ReleaseSlots {
  private start: StartOutcome = { kind: 'normal' };
  readonly calls: string[] = [];

  constructor(
    private readonly dir: string,
    initialVersion: string,
  ) {
    if (!existsSync(this.pointer)) this.save({ active: 'a', versions: { a: initialVersion } });
  }

  private get pointer(): string {
    return join(this.dir, 'slots.json');
  }

  private load(): State {
    return JSON.parse(readFileSync(this.pointer, 'utf8')) as State;
  }

  private save(state: State): void {
    writeFileSync(`${this.pointer}.tmp`, JSON.stringify(state));
    renameSync(`${this.pointer}.tmp`, this.pointer);
  }

  running(): { slot: SlotName; version: string } {
    const s = this.load();
    return { slot: s.active, version: s.versions[s.active] ?? '0.0.0' };
  }

  async stage(file: string, version: string): Promise<void> {
    this.calls.push(`stage ${version}`);
    const s = this.load();
    const slot: SlotName = s.active === 'a' ? 'b' : 'a';
    copyFileSync(file, join(this.dir, `release-${slot}`));
    this.save({ ...s, versions: { ...s.versions, [slot]: version } });
  }

  async activate(version: string): Promise<void> {
    this.calls.push(`activate ${version}`);
    const s = this.load();
    const slot: SlotName = s.active === 'a' ? 'b' : 'a';
    if (s.versions[slot] !== version) throw new Error(`slot ${slot} does not hold ${version}`);
    this.save({ ...s, pending: { slot, version, fromVersion: s.versions[s.active] ?? '0.0.0' } });
  }

  async confirm(): Promise<void> {
    this.calls.push('confirm');
    const s = this.load();
    if (this.start.kind === 'trial') this.save({ active: s.active, versions: s.versions });
  }

  outcome(): StartOutcome {
    return this.start;
  }

  /** The launcher at the next start: the pending release on trial, or back to the previous one. */
  launch(trial: 'starts' | { fails: string }): void {
    const s = this.load();
    const p = s.pending;
    if (!p) {
      this.start = { kind: 'normal' };
      return;
    }
    if (trial === 'starts') {
      this.save({ active: p.slot, versions: s.versions, pending: p });
      this.start = { kind: 'trial', version: p.version, fromVersion: p.fromVersion };
    } else {
      this.save({ active: s.active, versions: s.versions });
      this.start = {
        kind: 'rolled_back',
        version: p.version,
        fromVersion: p.fromVersion,
        reason: trial.fails,
      };
    }
  }

  /** As if the pointer change of `activate` never reached the disk. */
  forgetPending(): void {
    const s = this.load();
    this.save({ active: s.active, versions: s.versions });
  }

  releaseBytes(slot: SlotName): Buffer {
    return readFileSync(join(this.dir, `release-${slot}`));
  }
}
