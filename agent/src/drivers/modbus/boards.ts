import {
  type BoardName,
  Boards,
  decodeRegister,
  encodeRegister,
  type ModbusTable,
  type RegisterKey,
  Registers,
} from '@crema/protocol';
import { AgentError } from '../../errors';
import type { Logger } from '../../log/logger';
import type { Clock, ClockTimer } from '../../time/clock';
import { type BreakerOptions, CircuitBreaker } from './breaker';
import type { ModbusLink } from './link';
import type { AuxBoards, AuxSnapshot, BoardHealth } from './types';

export type ModbusBoardsOptions = {
  link: ModbusLink;
  clock: Clock;
  logger: Logger;
  pollIntervalMs?: number;
  /** Bound on each request; a board's poll never waits for another board's. */
  timeoutMs?: number;
  breaker?: BreakerOptions;
};

type Block = { table: ModbusTable; start: number; count: number; keys: RegisterKey[] };
type BoardState = {
  name: BoardName;
  unitId: number;
  blocks: Block[];
  breaker: CircuitBreaker;
  polling: boolean;
  lastOkAt?: number;
};

/** Polls every auxiliary board on its own schedule, each behind its own circuit breaker. */
export class ModbusBoards implements AuxBoards {
  private readonly boards: BoardState[];
  private readonly values: AuxSnapshot['values'] = {};
  private readonly readAt: AuxSnapshot['readAt'] = {};
  private readonly listeners = new Set<(s: AuxSnapshot) => void>();
  private readonly log: Logger;
  private readonly pollIntervalMs: number;
  private readonly timeoutMs: number;
  private timer: ClockTimer | undefined;

  constructor(private readonly opts: ModbusBoardsOptions) {
    this.log = opts.logger.child({ ns: 'agent:modbus' });
    this.pollIntervalMs = opts.pollIntervalMs ?? 1000;
    this.timeoutMs = opts.timeoutMs ?? 500;
    this.boards = (Object.keys(Boards) as BoardName[]).map((name) => ({
      name,
      unitId: Boards[name].unitId,
      blocks: blocksOf(name),
      breaker: new CircuitBreaker(opts.clock, opts.breaker),
      polling: false,
    }));
  }

  async start(): Promise<void> {
    if (this.timer) return;
    this.timer = this.opts.clock.setInterval(() => this.pollAll(), this.pollIntervalMs);
    await Promise.all(this.boards.map((b) => this.poll(b)));
  }

  async stop(): Promise<void> {
    if (this.timer) this.opts.clock.clearInterval(this.timer);
    this.timer = undefined;
    await this.opts.link.close();
  }

  snapshot(): AuxSnapshot {
    return { values: { ...this.values }, readAt: { ...this.readAt }, health: this.health() };
  }

  onUpdate(listener: (snapshot: AuxSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async write(key: RegisterKey, value: number | boolean): Promise<void> {
    const def = Registers[key];
    const board = this.boardOf(def.board);
    if (def.table !== 'coil' && def.table !== 'holding') {
      throw new AgentError('VALIDATION_FAILED', `${key} is a read-only ${def.table} register`);
    }
    if (!board.breaker.allow()) {
      throw new AgentError(
        'MODBUS_UNAVAILABLE',
        `board ${board.name} (unit ${board.unitId}) circuit is open`,
      );
    }
    const numeric = typeof value === 'boolean' ? Number(value) : value;
    try {
      if (def.table === 'coil') {
        await this.bounded(
          this.opts.link.writeCoil(board.unitId, def.address, numeric !== 0),
          board,
          `write ${key}`,
        );
      } else {
        await this.bounded(
          this.opts.link.writeRegisters(board.unitId, def.address, encodeRegister(def, numeric)),
          board,
          `write ${key}`,
        );
      }
    } catch (err) {
      board.breaker.failure();
      throw AgentError.from(err, 'MODBUS_TIMEOUT');
    }
    board.breaker.success();
    this.values[key] = def.table === 'coil' ? Number(numeric !== 0) : numeric;
  }

  private pollAll(): void {
    for (const b of this.boards) void this.poll(b);
  }

  private async poll(board: BoardState): Promise<void> {
    if (board.polling || !board.breaker.allow()) return;
    board.polling = true;
    try {
      const fresh: AuxSnapshot['values'] = {};
      for (const block of board.blocks) {
        const words = await this.bounded(
          this.opts.link.read(board.unitId, block.table, block.start, block.count),
          board,
          `read ${block.table} ${block.start}+${block.count}`,
        );
        for (const key of block.keys) {
          const def = Registers[key];
          const at = def.address - block.start;
          fresh[key] = decodeRegister(def, words.slice(at, at + def.words));
        }
      }
      Object.assign(this.values, fresh);
      board.lastOkAt = this.opts.clock.now();
      this.readAt[board.name] = board.lastOkAt;
      if (!board.breaker.online) this.log.info({ board: board.name }, 'board answers again');
      board.breaker.success();
    } catch (err) {
      const wasOnline = board.breaker.online;
      board.breaker.failure();
      if (board.breaker.state === 'open') {
        // Stale readings of a dead board must not pass for live ones.
        for (const block of board.blocks) for (const key of block.keys) delete this.values[key];
        // A failed half-open probe is the same outage, not a new one.
        if (wasOnline)
          this.log.warn({ board: board.name, err: (err as Error).message }, 'board circuit opened');
      } else {
        this.log.debug({ board: board.name, err: (err as Error).message }, 'board poll failed');
      }
    } finally {
      board.polling = false;
    }
    this.emit();
  }

  /**
   * Rejects with MODBUS_TIMEOUT when the link does not settle in time, whatever it does. On a shared bus a
   * request may first wait for the other units' turns, each bounded by the link's own timeout.
   */
  private bounded<T>(op: Promise<T>, board: BoardState, what: string): Promise<T> {
    const { clock, link } = this.opts;
    const limitMs = link.sharedBus ? this.timeoutMs * (this.boards.length + 1) : this.timeoutMs;
    return new Promise<T>((resolve, reject) => {
      const timer = clock.setTimeout(
        () =>
          reject(
            new AgentError(
              'MODBUS_TIMEOUT',
              `board ${board.name} (unit ${board.unitId}): no answer to ${what} within ${limitMs} ms`,
            ),
          ),
        limitMs,
      );
      op.then(
        (v) => {
          clock.clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clock.clearTimeout(timer);
          reject(AgentError.from(e, 'MODBUS_TIMEOUT'));
        },
      );
    });
  }

  private health(): BoardHealth[] {
    return this.boards.map((b) => {
      const h: BoardHealth = {
        board: b.name,
        state: b.breaker.state,
        online: b.breaker.online,
        failures: b.breaker.failures,
      };
      if (b.lastOkAt !== undefined) h.lastOkAt = b.lastOkAt;
      return h;
    });
  }

  private boardOf(name: BoardName): BoardState {
    const board = this.boards.find((b) => b.name === name);
    if (!board) throw new AgentError('INTERNAL', `unknown board ${name}`);
    return board;
  }

  private emit(): void {
    const snap = this.snapshot();
    for (const l of this.listeners) l(snap);
  }
}

/** One contiguous read per table of a board, covering all its registers. */
function blocksOf(board: BoardName): Block[] {
  const byTable = new Map<ModbusTable, RegisterKey[]>();
  for (const key of Object.keys(Registers) as RegisterKey[]) {
    const def = Registers[key];
    if (def.board !== board) continue;
    byTable.set(def.table, [...(byTable.get(def.table) ?? []), key]);
  }
  return [...byTable].map(([table, keys]) => {
    const start = Math.min(...keys.map((k) => Registers[k].address));
    const end = Math.max(...keys.map((k) => Registers[k].address + Registers[k].words));
    return { table, start, count: end - start, keys };
  });
}
