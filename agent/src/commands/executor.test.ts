import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command, CommandProgress, CommandResult } from '@crema/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentError } from '../errors';
import { silentLogger } from '../log/logger';
import { defaultRecipeSet } from '../orders/default-recipe-set';
import { Store } from '../store/store';
import { FakeClock } from '../time/fake-clock';
import { CommandExecutor } from './executor';
import type { CommandHandler, CommandHandlers } from './types';

const T0 = 1_700_000_000_000;

function command(n: number, kind: 'lock' | 'rinse' | 'diagnostics' = 'lock', ttlMs = 60_000): Command {
  const base = { commandId: `cmd_${n}`, idempotencyKey: `key_${n}`, issuedAt: T0, expiresAt: T0 + ttlMs };
  if (kind === 'rinse') return { ...base, kind, params: { cycles: 1 } };
  if (kind === 'diagnostics') return { ...base, kind, params: {} };
  return { ...base, kind, params: {} };
}

/** A machine whose command handlers count their runs and write a marker row through `apply`. */
class Machine {
  readonly runs: string[] = [];
  readonly progress: CommandProgress[] = [];
  busy = false;
  failWith: AgentError | undefined;
  /** Hub time − this machine's time as the agent learnt it; undefined: not heard from the hub yet. */
  hubOffsetMs: number | undefined = 0;
  store: Store;
  executor: CommandExecutor;

  constructor(
    readonly dir: string,
    readonly clock: FakeClock,
  ) {
    this.store = this.open();
    this.executor = this.makeExecutor();
  }

  /** Simulates an agent restart: a new store on the same SQLite file, a new executor. */
  async restart(): Promise<void> {
    await this.executor.stop();
    this.store.close();
    this.store = this.open();
    this.executor = this.makeExecutor();
  }

  results(): CommandResult[] {
    return this.store.outbox
      .peek(1000)
      .filter((r) => r.type === 'command_result')
      .map((r) => r.body as CommandResult);
  }

  close(): void {
    this.store.close();
  }

  private open(): Store {
    return Store.open({
      dataDir: this.dir,
      deviceId: 'dev-001',
      outboxMaxBytes: 1 << 24,
      clock: this.clock,
      defaults: defaultRecipeSet('EUR'),
    });
  }

  private handler(defer: boolean, storeOnly: boolean): CommandHandler {
    return {
      defer,
      storeOnly,
      run: async (cmd) => {
        this.runs.push(cmd.commandId);
        if (this.failWith) throw this.failWith;
        return {
          output: { ran: cmd.commandId },
          apply: () =>
            this.store.settings.set(
              `ran.${cmd.commandId}`,
              (this.store.settings.get<number>(`ran.${cmd.commandId}`) ?? 0) + 1,
            ),
        };
      },
    };
  }

  private makeExecutor(): CommandExecutor {
    const handlers = {
      lock: this.handler(false, true),
      rinse: this.handler(true, false),
      diagnostics: this.handler(false, true),
    } as CommandHandlers;
    const executor = new CommandExecutor({
      store: this.store,
      clock: this.clock,
      logger: silentLogger,
      handlers,
      busy: () => this.busy,
      progress: (p) => this.progress.push(p),
      idleCheckMs: 100,
      hubTime: {
        now: () => (this.hubOffsetMs === undefined ? undefined : this.clock.now() + this.hubOffsetMs),
      },
    });
    executor.start();
    return executor;
  }
}

describe('CommandExecutor', () => {
  let dir: string;
  let clock: FakeClock;
  let m: Machine;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crema-cmd-'));
    clock = new FakeClock(T0 + 1_000);
    m = new Machine(dir, clock);
  });
  afterEach(() => {
    m.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('executes a command once however often it is delivered; repeats get the stored result', async () => {
    const cmd = command(1);
    const first = await m.executor.receive(cmd);
    const second = await m.executor.receive(cmd);
    const third = await m.executor.receive({ ...cmd, commandId: 'cmd_1' });
    expect(m.runs).toEqual(['cmd_1']);
    expect(first).toMatchObject({ commandId: 'cmd_1', status: 'succeeded', output: { ran: 'cmd_1' } });
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(m.store.settings.get('ran.cmd_1')).toBe(1);
    // The result is a durable record; each repeat re-reports the same result.
    expect(m.results()).toEqual([first, first, first]);
  });

  it('runs concurrent deliveries of one key once', async () => {
    const cmd = command(2);
    const all = await Promise.all([
      m.executor.receive(cmd),
      m.executor.receive(cmd),
      m.executor.receive(cmd),
    ]);
    expect(m.runs).toEqual(['cmd_2']);
    expect(new Set(all.map((r) => JSON.stringify(r))).size).toBe(1);
  });

  it('executes once across an agent restart (real SQLite file), delivered three times out of order', async () => {
    const [a, b, c] = [command(1), command(2, 'diagnostics'), command(3)];
    await m.executor.receive(a);
    await m.executor.receive(c);
    await m.restart();
    await m.executor.receive(b);
    await m.executor.receive(c);
    await m.executor.receive(a);
    await m.restart();
    await m.executor.receive(b);
    await m.executor.receive(a);
    await m.executor.receive(c);
    expect(m.runs.sort()).toEqual(['cmd_1', 'cmd_2', 'cmd_3']);
    for (const id of ['cmd_1', 'cmd_2', 'cmd_3']) expect(m.store.settings.get(`ran.${id}`)).toBe(1);
    const results = m.results();
    expect(results.filter((r) => r.commandId === 'cmd_1')).toHaveLength(3);
    expect(new Set(results.filter((r) => r.commandId === 'cmd_3').map((r) => r.at)).size).toBe(1);
  });

  it('refuses an expired command with COMMAND_EXPIRED and never runs it', async () => {
    const cmd = command(4, 'lock', 500); // expired 500 ms before "now"
    const result = await m.executor.receive(cmd);
    expect(result).toMatchObject({ commandId: 'cmd_4', status: 'expired', code: 'COMMAND_EXPIRED' });
    expect(m.runs).toEqual([]);
    // Delivered again later: still refused, from the inbox.
    expect(await m.executor.receive(cmd)).toEqual(result);
    // A machine that never heard from the hub goes by its own clock.
    m.hubOffsetMs = undefined;
    const unknown = await m.executor.receive(command(11, 'lock', 500));
    expect(unknown).toMatchObject({ status: 'expired', code: 'COMMAND_EXPIRED' });
    expect(unknown.message).toMatch(/not known yet/);
  });

  it('defers while a brew or payment runs, reports `deferred`, then runs when idle', async () => {
    m.busy = true;
    const pending = m.executor.receive(command(5, 'rinse'));
    await clock.advance(1_000);
    expect(m.runs).toEqual([]);
    expect(m.progress.map((p) => p.status)).toEqual(['deferred']);
    // A command that does not interrupt a brew runs meanwhile.
    await m.executor.receive(command(6, 'lock'));
    expect(m.runs).toEqual(['cmd_6']);
    m.busy = false;
    await clock.advance(150);
    const result = await pending;
    expect(result.status).toBe('succeeded');
    expect(m.runs).toEqual(['cmd_6', 'cmd_5']);
    expect(m.progress.filter((p) => p.commandId === 'cmd_5').map((p) => p.status)).toEqual([
      'deferred',
      'executing',
    ]);
  });

  it('still honours the time-to-live while deferred', async () => {
    m.busy = true;
    const pending = m.executor.receive(command(7, 'rinse', 3_000));
    await clock.advance(2_500);
    const result = await pending;
    expect(result).toMatchObject({ status: 'expired', code: 'COMMAND_EXPIRED' });
    m.busy = false;
    await clock.advance(500);
    expect(m.runs).toEqual([]);
  });

  it('reports a handler failure with its code, and the repeat gets the same failure', async () => {
    m.failWith = new AgentError('BREWER_DISCONNECTED');
    const result = await m.executor.receive(command(8, 'rinse'));
    expect(result).toMatchObject({ status: 'failed', code: 'BREWER_DISCONNECTED' });
    m.failWith = undefined;
    expect(await m.executor.receive(command(8, 'rinse'))).toEqual(result);
    expect(m.runs).toEqual(['cmd_8']);
  });

  it('never repeats a hardware command interrupted by a crash; reports it failed instead', async () => {
    const cmd = command(9, 'rinse');
    // What a crash mid-rinse leaves behind: the run marker, no result.
    m.store.inbox.put(`run:${cmd.idempotencyKey}`, { commandId: cmd.commandId }, cmd.expiresAt);
    const result = await m.executor.receive(cmd);
    expect(result).toMatchObject({ status: 'failed', code: 'COMMAND_FAILED' });
    expect(m.runs).toEqual([]);
  });

  it('fails a kind it has no handler for', async () => {
    const cmd: Command = { ...command(10), kind: 'unlock', params: {} };
    expect(await m.executor.receive(cmd)).toMatchObject({ status: 'failed', code: 'COMMAND_FAILED' });
  });

  describe('with a skewed clock', () => {
    const HOURS_3 = 3 * 3600 * 1000;
    /** The same machine (same SQLite file) with its clock reading `time`. */
    const setClock = (time: number) => {
      m.close();
      clock = new FakeClock(time);
      m = new Machine(dir, clock);
    };

    it('runs a fresh command on a machine 3 h ahead of the hub', async () => {
      // The hub issued it 1 s ago (hub time T0 + 1 s); this machine's clock reads 3 h later.
      setClock(T0 + 1_000 + HOURS_3);
      m.hubOffsetMs = -HOURS_3;
      expect(await m.executor.receive(command(20, 'lock', 60_000))).toMatchObject({ status: 'succeeded' });
      expect(m.runs).toEqual(['cmd_20']);
    });

    it('refuses a command expired by the hub clock on a machine 3 h behind', async () => {
      setClock(T0 + 61_000 - HOURS_3);
      m.hubOffsetMs = HOURS_3;
      const result = await m.executor.receive(command(21, 'lock', 60_000));
      expect(result).toMatchObject({ status: 'expired', code: 'COMMAND_EXPIRED' });
      expect(result.message).toMatch(/hub time/);
      expect(m.runs).toEqual([]);
    });

    it('runs a command at most its TTL after the first receipt, across a restart, whatever the estimate', async () => {
      // 3 h ahead, and the hub's time is underestimated by 2 min (say, only stale messages were seen).
      setClock(T0 + HOURS_3);
      m.hubOffsetMs = -HOURS_3 - 120_000;
      expect(await m.executor.receive(command(22, 'lock', 60_000))).toMatchObject({ status: 'succeeded' });
      // A rinse deferred behind a brew: received now, redelivered after a restart, still waiting.
      m.busy = true;
      void m.executor.receive(command(23, 'rinse', 60_000));
      await clock.advance(30_000);
      await m.restart();
      m.hubOffsetMs = -HOURS_3 - 120_000;
      m.busy = true;
      const again = m.executor.receive(command(23, 'rinse', 60_000));
      await clock.advance(30_100);
      // 60.1 s since the first receipt, although only 30.1 s since the redelivery.
      expect(await again).toMatchObject({ status: 'expired', code: 'COMMAND_EXPIRED' });
      expect(m.runs).toEqual(['cmd_22']);
    });
  });
});
