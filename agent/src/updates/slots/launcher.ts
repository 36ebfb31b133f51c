import { type ChildProcess, spawn } from 'node:child_process';
import { Backoff, systemClock } from '@crema/protocol';
import { AgentError } from '../../errors';
import type { Logger } from '../../log/logger';
import type { Clock, ClockTimer } from '../../time/clock';
import type { SlotName } from '../release-slots';
import {
  AgentToLauncherSchema,
  type ConfirmedMessage,
  ENV_HEARTBEAT_MS,
  ENV_ROOT,
  ENV_SLOT,
} from './messages';
import { otherSlot, type Pointer, readPointer, writePointer } from './pointer';
import { releaseEntry, tryReadRelease } from './release-dir';
import type { ServiceNotifier } from './systemd';
import { confirmTrial, countAttempt, recordExit, rollBack } from './transitions';

/** The agent's exit code for "start me again now" (agent/src/cli.ts RESTART_EXIT_CODE). */
const RESTART_EXIT_CODE = 3;

export type LauncherOptions = {
  /** The layout's root: `<root>/slots/{a,b}/agent.mjs`, `<root>/node_modules`, `<root>/state.json`. */
  root: string;
  /** Arguments for the agent, e.g. `['--config', '/etc/crema/agent.json']`. */
  args: string[];
  logger: Logger;
  /** The Node binary that runs the agent (default: the launcher's own). */
  node?: string;
  env?: NodeJS.ProcessEnv;
  clock?: Clock;
  /** A trial release must send `ready` (started and connected to the hub) within this time of each start. */
  trialDeadlineMs?: number;
  /** Starts a trial release gets before it is given up (crash at start, power cut mid-start). */
  trialMaxStarts?: number;
  /** An agent silent this long (no heartbeat) is hung: it is stopped and started again. */
  hangTimeoutMs?: number;
  /** Until its first heartbeat (module loading on a slow board) an agent has this long (default: the trial deadline). */
  startTimeoutMs?: number;
  /** Between SIGTERM and SIGKILL when an agent is stopped. */
  stopGraceMs?: number;
  /** Delay between restarts of a release that keeps exiting (×1.5 up to the max, reset once it is ready). */
  restart?: { initialMs: number; maxMs: number };
  notifier?: ServiceNotifier;
  /** Observation point for tests and the CLI's status line. */
  onEvent?: (event: LauncherEvent) => void;
};

export type LauncherEvent =
  | { kind: 'started'; slot: SlotName; version: string; trial: boolean; pid: number }
  | { kind: 'ready'; slot: SlotName; version: string; confirmed: boolean }
  | { kind: 'exited'; slot: SlotName; how: string }
  | { kind: 'rolled_back'; version: string; fromVersion: string; reason: string }
  | { kind: 'slot_damaged'; slot: SlotName; switchedTo: SlotName };

type Child = {
  proc: ChildProcess;
  slot: SlotName;
  version: string;
  trial: boolean;
  lastHeard: number;
  /** False until the first message: a loading agent cannot send heartbeats yet. */
  heard: boolean;
  /** Why the launcher stopped it, when it did: a failed trial rolls back with this reason. */
  failure?: string;
  exited: Promise<void>;
  hangCheck?: ClockTimer;
  deadline?: ClockTimer;
};

/**
 * Runs the agent from the active release slot and keeps it running: restarts it with backoff when it exits,
 * stops it when it hangs, and supervises a trial (a release just activated): the trial must report ready and
 * connected within the deadline, within a few starts, or the launcher points back to the previous release
 * and starts it. While a trial runs the launcher is the pointer's only writer.
 */
export class Launcher {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private child: Child | undefined;
  private running = false;
  private pending: ClockTimer | undefined;
  private watchdog: ClockTimer | undefined;

  constructor(private readonly o: LauncherOptions) {
    this.clock = o.clock ?? systemClock;
    this.log = o.logger.child({ ns: 'launcher' });
    this.backoff = new Backoff({ factor: 1.5, ...(o.restart ?? { initialMs: 1_000, maxMs: 60_000 }) });
  }

  get pid(): number | undefined {
    return this.child?.proc.pid;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.launch();
    const notifier = this.o.notifier;
    if (notifier) {
      notifier.notify('READY=1');
      const every = notifier.watchdogMs;
      // The launcher's own liveness: a launcher whose event loop is stuck stops pinging, and systemd restarts it.
      if (every) this.watchdog = this.clock.setInterval(() => notifier.notify('WATCHDOG=1'), every / 2);
    }
  }

  /** Stops the agent (SIGTERM, SIGKILL after the grace) and resolves once it has exited. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.o.notifier?.notify('STOPPING=1');
    if (this.watchdog) this.clock.clearInterval(this.watchdog);
    if (this.pending) this.clock.clearTimeout(this.pending);
    const child = this.child;
    if (child) await this.terminate(child);
  }

  private launch(): void {
    this.pending = undefined;
    if (!this.running) return;
    let pointer: Pointer;
    let trial: boolean;
    try {
      ({ pointer, trial } = this.choose());
    } catch (err) {
      // Nothing that can start: say why, and try again later (a technician may restore a slot).
      this.log.error({ err: (err as Error).message }, 'no release can be started');
      this.later(this.backoff.next());
      return;
    }
    const slot = pointer.active;
    const version = trial
      ? (pointer.trial?.version ?? '?')
      : (tryReadRelease(this.o.root, slot)?.version ?? '?');
    const hang = this.o.hangTimeoutMs ?? 60_000;
    const proc = spawn(this.o.node ?? process.execPath, [releaseEntry(this.o.root, slot), ...this.o.args], {
      cwd: this.o.root,
      env: {
        ...(this.o.env ?? process.env),
        [ENV_ROOT]: this.o.root,
        [ENV_SLOT]: slot,
        // Several heartbeats per hang timeout: one late beat on a busy board is not a hang.
        [ENV_HEARTBEAT_MS]: String(Math.max(100, Math.floor(hang / 6))),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const child: Child = { proc, slot, version, trial, lastHeard: this.clock.now(), heard: false, exited };
    this.child = child;
    proc.on('message', (raw) => this.onMessage(child, raw));
    proc.once('exit', (code, signal) => this.onExit(child, code, signal));
    proc.once('error', (err) => {
      this.log.error({ err: err.message }, 'agent could not be started');
      // Without a pid there is no process, and 'exit' may never come.
      if (proc.pid === undefined) this.onExit(child, null, null);
    });
    const startLimit = this.o.startTimeoutMs ?? this.o.trialDeadlineMs ?? 120_000;
    child.hangCheck = this.clock.setInterval(
      () => {
        const silent = this.clock.now() - child.lastHeard;
        if (!child.heard && silent > startLimit) {
          this.fail(child, `hung: no heartbeat within ${startLimit / 1000} s of start`);
        } else if (child.heard && silent > hang) {
          this.fail(child, `hung: no heartbeat for ${hang / 1000} s`);
        }
      },
      Math.max(50, hang / 4),
    );
    if (trial) {
      const deadline = this.o.trialDeadlineMs ?? 120_000;
      child.deadline = this.clock.setTimeout(
        () => this.fail(child, `not ready and connected to the hub within ${deadline / 1000} s`),
        deadline,
      );
    }
    this.log.info({ slot, version, trial, pid: proc.pid }, 'agent started');
    this.o.notifier?.notify(`STATUS=agent ${version} (slot ${slot}${trial ? ', on trial' : ''})`);
    this.o.onEvent?.({ kind: 'started', slot, version, trial, pid: proc.pid ?? 0 });
  }

  /**
   * The slot to start and whether it is a trial, after settling what the pointer says: a trial out of starts
   * is rolled back, a start of a trial is counted (on disk, before it happens), a damaged active slot falls
   * back to the other one when that holds a complete release.
   */
  private choose(): { pointer: Pointer; trial: boolean } {
    const root = this.o.root;
    let pointer: Pointer;
    try {
      pointer = readPointer(root) ?? this.adopt();
    } catch (err) {
      // Not from our writes (they are atomic): the disk damaged it. Start something rather than nothing.
      this.log.error({ err: (err as Error).message }, 'release pointer damaged; adopting a complete slot');
      pointer = this.adopt();
    }
    const t = pointer.trial;
    if (t) {
      const max = this.o.trialMaxStarts ?? 3;
      if (!tryReadRelease(root, t.slot)) {
        pointer = this.rollBack(pointer, `release ${t.version} in slot ${t.slot} is damaged`);
      } else if (t.attempts >= max) {
        pointer = this.rollBack(
          pointer,
          `not ready after ${t.attempts} starts (last: ${t.lastExit ?? 'unknown'})`,
        );
      } else {
        pointer = countAttempt(pointer);
        writePointer(root, pointer);
        return { pointer, trial: true };
      }
    }
    if (!tryReadRelease(root, pointer.active)) {
      const other = otherSlot(pointer.active);
      if (!tryReadRelease(root, other)) {
        throw new AgentError('UPDATE_IMAGE_INVALID', `neither slot in ${root} holds a complete release`);
      }
      this.log.error(
        { damaged: pointer.active, switchedTo: other },
        'active release damaged; using the other slot',
      );
      this.o.onEvent?.({ kind: 'slot_damaged', slot: pointer.active, switchedTo: other });
      pointer = { v: 1, active: other };
      writePointer(root, pointer);
    }
    return { pointer, trial: false };
  }

  /**
   * No usable pointer (fresh install, removed by hand, damaged): the complete release staged first, the one
   * more likely to have run well (the newer one may be the trial, or the release that was rolled back).
   */
  private adopt(): Pointer {
    const complete = (['a', 'b'] as const)
      .map((s) => ({ slot: s, release: tryReadRelease(this.o.root, s) }))
      .filter((c) => c.release !== undefined)
      .sort((x, y) => (x.release?.stagedAt ?? 0) - (y.release?.stagedAt ?? 0));
    const slot = complete[0]?.slot;
    if (!slot) throw new AgentError('UPDATE_IMAGE_INVALID', `no release installed in ${this.o.root}`);
    const pointer: Pointer = { v: 1, active: slot };
    writePointer(this.o.root, pointer);
    return pointer;
  }

  private rollBack(pointer: Pointer, reason: string): Pointer {
    const t = pointer.trial;
    const next = rollBack(pointer, reason, this.clock.now());
    writePointer(this.o.root, next);
    if (t) {
      this.log.error({ version: t.version, back: t.from.version, reason }, 'trial failed: rolled back');
      this.o.onEvent?.({ kind: 'rolled_back', version: t.version, fromVersion: t.from.version, reason });
    }
    return next;
  }

  private onMessage(child: Child, raw: unknown): void {
    const parsed = AgentToLauncherSchema.safeParse(raw);
    if (!parsed.success) return;
    child.lastHeard = this.clock.now();
    child.heard = true;
    const message = parsed.data;
    if (message.type === 'crema.alive') return;
    let reply: ConfirmedMessage = { type: 'crema.confirmed', id: message.id, ok: true };
    let confirmed = false;
    try {
      const pointer = readPointer(this.o.root);
      // A trial that is already being stopped as failed is not confirmed by a late `ready`.
      if (pointer?.trial?.slot === child.slot && child.trial && !child.failure) {
        writePointer(this.o.root, confirmTrial(pointer, this.clock.now()));
        confirmed = true;
        child.trial = false;
        this.log.info({ slot: child.slot, version: child.version }, 'trial confirmed');
      } else if (child.failure) {
        reply = { ...reply, ok: false, error: child.failure };
      }
    } catch (err) {
      reply = { ...reply, ok: false, error: (err as Error).message };
    }
    if (reply.ok) {
      this.backoff.reset();
      if (child.deadline) this.clock.clearTimeout(child.deadline);
      child.deadline = undefined;
    }
    if (child.proc.connected) child.proc.send(reply);
    this.o.onEvent?.({ kind: 'ready', slot: child.slot, version: child.version, confirmed });
  }

  /** Stops a child the launcher gave up on; its exit then rolls a trial back with `reason`. */
  private fail(child: Child, reason: string): void {
    if (child.failure || this.child !== child) return;
    child.failure = reason;
    this.log.warn({ slot: child.slot, version: child.version, reason }, 'stopping the agent');
    void this.terminate(child);
  }

  private async terminate(child: Child): Promise<void> {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
    child.proc.kill('SIGTERM');
    const grace = this.clock.setTimeout(() => child.proc.kill('SIGKILL'), this.o.stopGraceMs ?? 10_000);
    await child.exited;
    this.clock.clearTimeout(grace);
  }

  private onExit(child: Child, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    if (child.hangCheck) this.clock.clearInterval(child.hangCheck);
    if (child.deadline) this.clock.clearTimeout(child.deadline);
    this.child = undefined;
    const how = code !== null ? `exit code ${code}` : signal ? `signal ${signal}` : 'not started';
    this.log.warn({ slot: child.slot, version: child.version, how }, 'agent exited');
    this.o.onEvent?.({ kind: 'exited', slot: child.slot, how });
    if (!this.running) return;
    try {
      const pointer = readPointer(this.o.root);
      if (child.trial && pointer?.trial?.slot === child.slot) {
        if (child.failure) {
          this.rollBack(pointer, child.failure);
          this.later(0);
          return;
        }
        // Died before it was ready: one start used; the next launch rolls back when none are left.
        writePointer(this.o.root, recordExit(pointer, how));
        this.later(Math.min(this.backoff.next(), 5_000));
        return;
      }
      // An activation (the agent switched the pointer and exited) or a requested restart: start at once.
      if (pointer?.active !== child.slot || pointer?.trial || code === RESTART_EXIT_CODE) {
        this.later(0);
        return;
      }
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'release pointer unreadable after exit');
    }
    this.later(this.backoff.next());
  }

  private later(ms: number): void {
    if (!this.running) return;
    this.pending = this.clock.setTimeout(() => this.launch(), ms);
  }
}
