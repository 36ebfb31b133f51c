import type { Command, CommandProgress, CommandResult, ErrorCode } from '@crema/protocol';
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';
import type { Db } from '../store/database';
import { inTransaction } from '../store/database';
import type { Inbox } from '../store/inbox';
import type { Outbox } from '../store/outbox/types';
import { type Clock, sleep } from '../time/clock';
import type { HubTime } from './hub-time';
import type { CommandHandler, CommandHandlers, HandlerOutcome } from './types';

export type CommandExecutorOptions = {
  store: { db: Db; inbox: Inbox; outbox: Outbox };
  clock: Clock;
  logger: Logger;
  handlers: CommandHandlers;
  /** True while a brew or a payment is in progress. */
  busy: () => boolean;
  /** `deferred` / `executing` reports (not records: sent once when a path to the hub is up). */
  progress: (progress: CommandProgress) => void;
  /** Told after each `command_result` record is queued (e.g. `sync.kick()`). */
  onResult?: (result: CommandResult) => void;
  /** How often a deferred command looks whether the machine is idle. */
  idleCheckMs?: number;
  /** How long a key is remembered after its command expired. */
  retentionMs?: number;
  /** The hub's clock as learnt from its messages; without it, a command's TTL counts from its receipt. */
  hubTime?: Pick<HubTime, 'now'>;
};

const RUN_PREFIX = 'run:';
/** When this agent first received a key, by its own clock (kept across restarts). */
const SEEN_PREFIX = 'seen:';

/**
 * Executes each command once per idempotency key, however often and in whatever order it arrives (MQTT
 * redelivery, the HTTP poll, across restarts: the inbox is in the ledger database). A repeat is answered with
 * the stored result; an expired command is refused; a command that would interrupt a brew or a payment waits.
 * The result is a `command_result` record committed together with the command's store writes.
 *
 * Expiry judges the hub's `expiresAt` on the hub's time, not this machine's clock, which may be hours off:
 * hub time = local time + the offset learnt from the hub's messages (or remembered from the last run), and
 * at least `issuedAt` + the time since this agent first received the command (so a low estimate cannot keep
 * a command alive past its time-to-live). Only a machine that has never heard from the hub falls back on its
 * own clock.
 */
export class CommandExecutor {
  private readonly log: Logger;
  private readonly active = new Map<string, Promise<CommandResult>>();
  private readonly lanes = {
    now: Promise.resolve() as Promise<unknown>,
    idle: Promise.resolve() as Promise<unknown>,
  };
  private abort = new AbortController();
  private readonly idleCheckMs: number;
  private readonly retentionMs: number;

  constructor(private readonly o: CommandExecutorOptions) {
    this.log = o.logger.child({ ns: 'agent:commands' });
    this.idleCheckMs = o.idleCheckMs ?? 250;
    this.retentionMs = o.retentionMs ?? 7 * 24 * 3600 * 1000;
  }

  start(): void {
    if (this.abort.signal.aborted) this.abort = new AbortController();
  }

  /** Stops waiting for idle; commands not finished are not recorded, so the hub delivers them again. */
  async stop(): Promise<void> {
    this.abort.abort(new AgentError('UNAVAILABLE', 'agent stopping'));
    await Promise.allSettled([...this.active.values()]);
  }

  /** Takes a command from any path; resolves with its result (the stored one for a repeat). */
  receive(command: Command): Promise<CommandResult> {
    const key = command.idempotencyKey;
    const pending = this.active.get(key);
    if (pending) return pending;
    const stored = this.o.store.inbox.get(key)?.result as CommandResult | undefined;
    if (stored) {
      this.log.info({ commandId: command.commandId, key }, 'repeat command; reporting the stored result');
      this.report(stored);
      return Promise.resolve(stored);
    }
    try {
      this.firstSeen(command);
    } catch {
      // The store is failing; execute() meets the same error and reports it.
    }
    const run = this.enqueue(command).finally(() => this.active.delete(key));
    this.active.set(key, run);
    return run;
  }

  private enqueue(command: Command): Promise<CommandResult> {
    const handler = this.o.handlers[command.kind] as CommandHandler | undefined;
    const lane = handler?.defer ? 'idle' : 'now';
    const run = this.lanes[lane].then(() => this.execute(command, handler));
    this.lanes[lane] = run.catch(() => undefined);
    return run;
  }

  private async execute(command: Command, handler: CommandHandler | undefined): Promise<CommandResult> {
    this.firstSeen(command);
    if (this.expired(command)) return this.finish(command, this.expiredResult(command));
    if (!handler) {
      return this.finish(
        command,
        this.failure(command, 'COMMAND_FAILED', `no ${command.kind} on this machine`),
      );
    }
    if (handler.defer && this.o.busy()) {
      this.sendProgress(command, 'deferred', undefined, 'waiting for the brew or payment to end');
      while (this.o.busy()) {
        await sleep(this.o.clock, this.idleCheckMs, this.abort.signal);
        if (this.expired(command)) return this.finish(command, this.expiredResult(command));
      }
    }
    if (this.abort.signal.aborted) throw this.abort.signal.reason;
    const runKey = RUN_PREFIX + command.idempotencyKey;
    if (this.o.store.inbox.get(runKey) && !handler.storeOnly && !handler.resumable) {
      const message = 'interrupted by an agent restart; not repeated';
      return this.finish(command, this.failure(command, 'COMMAND_FAILED', message));
    }
    this.o.store.inbox.put(
      runKey,
      { commandId: command.commandId, at: this.o.clock.now() },
      this.keepUntil(command),
    );
    this.sendProgress(command, 'executing', 0);
    let outcome: HandlerOutcome;
    try {
      outcome = await handler.run(command as never, {
        now: () => this.o.clock.now(),
        progress: (percent, message) => this.sendProgress(command, 'executing', percent, message),
      });
    } catch (err) {
      // A resumable handler stopped mid-way keeps its own journal: its result comes after the restart.
      if (handler.resumable && this.abort.signal.aborted) throw err;
      const e = AgentError.from(err, 'COMMAND_FAILED');
      return this.finish(command, this.failure(command, e.code, e.message));
    }
    const result: CommandResult = {
      commandId: command.commandId,
      status: 'succeeded',
      at: this.o.clock.now(),
    };
    if (outcome.output) result.output = outcome.output;
    if (outcome.message) result.message = outcome.message.slice(0, 500);
    let done: CommandResult;
    try {
      done = this.finish(command, result, outcome.apply);
    } catch (err) {
      const e = AgentError.from(err, 'COMMAND_FAILED');
      return this.finish(command, this.failure(command, e.code, e.message));
    }
    try {
      outcome.after?.();
    } catch (err) {
      this.log.error(
        { commandId: command.commandId, err: (err as Error).message },
        'post-result step failed',
      );
    }
    return done;
  }

  /** Commits the command's writes, its inbox entry and its `command_result` record in one transaction. */
  private finish(command: Command, result: CommandResult, apply?: () => void): CommandResult {
    const { db, inbox, outbox } = this.o.store;
    const stored = inTransaction(db, () => {
      const existing = inbox.get(command.idempotencyKey)?.result as CommandResult | undefined;
      if (existing) return existing;
      apply?.();
      inbox.put(command.idempotencyKey, result, this.keepUntil(command));
      outbox.append('command_result', result);
      return result;
    });
    this.log.info(
      { commandId: command.commandId, kind: command.kind, status: stored.status, code: stored.code },
      'command finished',
    );
    this.o.onResult?.(stored);
    return stored;
  }

  /** A repeat: the stored result goes to the hub again (as a new record; the hub's status only moves once). */
  private report(result: CommandResult): void {
    try {
      this.o.store.outbox.append('command_result', result);
      this.o.onResult?.(result);
    } catch (err) {
      this.log.error(
        { commandId: result.commandId, err: (err as Error).message },
        'repeat result not queued',
      );
    }
  }

  private expired(command: Command): boolean {
    const now = this.o.clock.now();
    const atLeast = command.issuedAt + (now - this.firstSeen(command));
    return command.expiresAt < Math.max(this.o.hubTime?.now() ?? now, atLeast);
  }

  /** Local time of the first receipt of the command's key; recorded on the first call. */
  private firstSeen(command: Command): number {
    const key = SEEN_PREFIX + command.idempotencyKey;
    const { inbox } = this.o.store;
    return (inbox.get(key) ?? inbox.put(key, null, this.keepUntil(command))).receivedAt;
  }

  private expiredResult(command: Command): CommandResult {
    const hubNow = this.o.hubTime?.now();
    const clock = hubNow === undefined ? "this machine's clock; the hub's is not known yet" : 'hub time';
    const why = `expired at ${new Date(command.expiresAt).toISOString()} (${clock})`;
    return {
      commandId: command.commandId,
      status: 'expired',
      code: 'COMMAND_EXPIRED',
      message: why,
      at: this.o.clock.now(),
    };
  }

  private failure(command: Command, code: ErrorCode, message: string): CommandResult {
    return {
      commandId: command.commandId,
      status: 'failed',
      code,
      message: message.slice(0, 500),
      at: this.o.clock.now(),
    };
  }

  /** On the local clock, whatever its skew: the command's whole time-to-live from now, then the retention. */
  private keepUntil(command: Command): number {
    return this.o.clock.now() + ttlOf(command) + this.retentionMs;
  }

  private sendProgress(
    command: Command,
    status: 'deferred' | 'executing',
    percent?: number,
    message?: string,
  ): void {
    const p: CommandProgress = { commandId: command.commandId, status, at: this.o.clock.now() };
    if (percent !== undefined) p.percent = Math.max(0, Math.min(100, percent));
    if (message) p.message = message.slice(0, 200);
    try {
      this.o.progress(p);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'progress not sent');
    }
  }
}

/** The time-to-live the hub gave the command; both ends are hub times, so skew cancels out. */
function ttlOf(command: Command): number {
  return Math.max(0, command.expiresAt - command.issuedAt);
}
