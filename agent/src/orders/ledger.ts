import type { Consumption, OrderEventKind, PaymentEventKind } from '@crema/protocol';
import type { Statement } from 'better-sqlite3';
import type { AgentError } from '../errors';
import { type Db, inTransaction } from '../store/database';
import type { Outbox } from '../store/outbox/types';
import type { StorageFault, StorageGuard } from '../store/reserve';
import { statementCache } from '../store/statements';
import type { Order, OrderState, Payment, PaymentState } from './types';

type OrderRow = {
  id: string;
  recipe_id: string;
  size: Order['size'];
  amount: number;
  currency: string;
  method: Order['method'];
  state: OrderState;
  code: string | null;
  reason: string | null;
  dispensed_at: number | null;
  consumption: string | null;
  created_at: number;
  updated_at: number;
  p_id: string | null;
  p_txn: string | null;
  p_state: PaymentState | null;
  p_attempts: number | null;
  p_error: string | null;
};

export type OrderChange = {
  state?: OrderState;
  code?: string;
  reason?: string;
  dispensedAt?: number;
  consumption?: Consumption;
  payment?: { state?: PaymentState; txn?: string; attempt?: boolean; lastError?: string };
};

/** Protocol records a transition produces; they commit in the same transaction as the row change. */
export type TransitionRecords = { order?: OrderEventKind[]; payment?: PaymentEventKind };

const SELECT = `SELECT o.*, p.id AS p_id, p.txn AS p_txn, p.state AS p_state, p.attempts AS p_attempts,
  p.last_error AS p_error FROM orders o LEFT JOIN payments p ON p.order_id = o.id`;

/** The authoritative order and payment ledger. Every change is one durable transaction with its records. */
export class OrderLedger {
  private readonly sql: (text: string) => Statement;

  constructor(
    private readonly db: Db,
    private readonly outbox: Outbox,
    private readonly now: () => number,
    private readonly storage?: Pick<StorageGuard, 'release' | 'noteFault'>,
  ) {
    this.sql = statementCache(db);
  }

  /**
   * Runs one write; a storage fault is noted (new sales stop at once). With `reserve`, a full disk gives up
   * the ballast and the write is tried once more: that is what lets a failure and its void be recorded.
   */
  private write<T>(fn: () => T, reserve: boolean): T {
    try {
      return inTransaction(this.db, fn);
    } catch (err) {
      const code = (err as AgentError).code;
      if (code !== 'STORAGE_FULL' && code !== 'STORAGE_READ_ONLY') throw err;
      this.storage?.noteFault(code as StorageFault);
      if (!reserve || code !== 'STORAGE_FULL' || !this.storage?.release()) throw err;
      return inTransaction(this.db, fn);
    }
  }

  create(
    order: Omit<Order, 'createdAt' | 'updatedAt' | 'payment'>,
    payment: { id: string; state: PaymentState } | undefined,
    records: TransitionRecords,
  ): Order {
    const at = this.now();
    // A new sale never uses the reserve: it is kept for finishing the money already taken.
    return this.write(() => {
      this.sql(
        `INSERT INTO orders (id, recipe_id, size, amount, currency, method, state, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        order.id,
        order.recipeId,
        order.size,
        order.amount,
        order.currency,
        order.method,
        order.state,
        at,
        at,
      );
      if (payment) {
        this.sql(
          `INSERT INTO payments (id, order_id, state, amount, currency, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)`,
        ).run(payment.id, order.id, payment.state, order.amount, order.currency, at, at);
      }
      const created = this.mustGet(order.id);
      this.appendRecords(created, records);
      return created;
    }, false);
  }

  /** `reserve: false` for steps that take a sale further (they must not eat the space kept for voids). */
  transition(
    id: string,
    change: OrderChange,
    records: TransitionRecords = {},
    options: { reserve?: boolean } = {},
  ): Order {
    const at = this.now();
    return this.write(() => {
      const before = this.mustGet(id);
      this.sql(
        `UPDATE orders SET state = ?, code = ?, reason = ?, dispensed_at = ?, consumption = ?, updated_at = ?
           WHERE id = ?`,
      ).run(
        change.state ?? before.state,
        change.code ?? before.code ?? null,
        change.reason ?? before.reason ?? null,
        change.dispensedAt ?? before.dispensedAt ?? null,
        change.consumption
          ? JSON.stringify(change.consumption)
          : before.consumption
            ? JSON.stringify(before.consumption)
            : null,
        at,
        id,
      );
      const p = change.payment;
      if (p && before.payment) {
        this.sql(
          `UPDATE payments SET state = ?, txn = ?, attempts = attempts + ?, last_error = ?, updated_at = ?
             WHERE order_id = ?`,
        ).run(
          p.state ?? before.payment.state,
          p.txn ?? before.payment.txn ?? null,
          p.attempt ? 1 : 0,
          p.lastError ?? null,
          at,
          id,
        );
      }
      const after = this.mustGet(id);
      this.appendRecords(after, records);
      return after;
    }, options.reserve ?? true);
  }

  get(id: string): Order | undefined {
    const row = this.sql(`${SELECT} WHERE o.id = ?`).get(id) as OrderRow | undefined;
    return row ? toOrder(row) : undefined;
  }

  /** Orders not yet completed or failed, oldest first. */
  open(): Order[] {
    const rows = this.sql(
      `${SELECT} WHERE o.state NOT IN ('completed', 'failed') ORDER BY o.created_at, o.id`,
    ).all() as OrderRow[];
    return rows.map(toOrder);
  }

  recent(limit: number): Order[] {
    const rows = this.sql(`${SELECT} ORDER BY o.created_at DESC, o.id DESC LIMIT ?`).all(limit) as OrderRow[];
    return rows.map(toOrder);
  }

  counts(): Record<string, number> {
    const rows = this.sql('SELECT state, count(*) AS n FROM orders GROUP BY state').all() as {
      state: string;
      n: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }

  private mustGet(id: string): Order {
    const order = this.get(id);
    if (!order) throw new Error(`order ${id} vanished from the ledger`);
    return order;
  }

  private appendRecords(order: Order, records: TransitionRecords): void {
    const at = this.now();
    // The money event first: the order event it causes follows it in sequence.
    if (records.payment && order.payment) {
      this.outbox.append('payment', {
        paymentId: order.payment.id,
        orderId: order.id,
        event: records.payment,
        amount: order.amount,
        currency: order.currency,
        ...(order.payment.txn ? { terminalRef: order.payment.txn.slice(0, 64) } : {}),
        ...(records.payment === 'declined' && order.code ? { code: order.code.slice(0, 64) } : {}),
        at,
      });
    }
    for (const event of records.order ?? []) {
      this.outbox.append('order', {
        orderId: order.id,
        event,
        recipeId: order.recipeId,
        size: order.size,
        amount: order.amount,
        currency: order.currency,
        method: order.method,
        ...(event === 'failed' && order.code ? { code: order.code.slice(0, 64) } : {}),
        ...(event === 'failed' && order.reason ? { reason: order.reason.slice(0, 200) } : {}),
        at,
      });
    }
  }
}

function toOrder(row: OrderRow): Order {
  const order: Order = {
    id: row.id,
    recipeId: row.recipe_id,
    size: row.size,
    amount: row.amount,
    currency: row.currency,
    method: row.method,
    state: row.state,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.code !== null) order.code = row.code;
  if (row.reason !== null) order.reason = row.reason;
  if (row.dispensed_at !== null) order.dispensedAt = row.dispensed_at;
  if (row.consumption !== null) order.consumption = JSON.parse(row.consumption) as Consumption;
  if (row.p_id !== null && row.p_state !== null) {
    const payment: Payment = { id: row.p_id, state: row.p_state, attempts: row.p_attempts ?? 0 };
    if (row.p_txn !== null) payment.txn = row.p_txn;
    if (row.p_error !== null) payment.lastError = row.p_error;
    order.payment = payment;
  }
  return order;
}
