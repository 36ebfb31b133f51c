import { EventEmitter } from 'node:events';
import type { ErrorCode, Recipe } from '@crema/protocol';
import type { PaymentOutcome, PaymentTerminal } from '../drivers/payment/types';
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';
import type { BrewProgress, RecipeRunner } from '../recipe/types';
import type { CatalogStore } from '../store/catalog';
import type { StorageGuard } from '../store/reserve';
import type { SettingsStore } from '../store/settings';
import type { Clock, ClockTimer } from '../time/clock';
import type { OrderLedger } from './ledger';
import { Settlement } from './settlement';
import { type CreateOrder, CreateOrderSchema, FINAL_ORDER_STATES, type Order } from './types';

export type OrderUpdate = { order: Order; progress?: BrewProgress };

export type OrderServiceOptions = {
  ledger: OrderLedger;
  catalog: CatalogStore;
  settings: SettingsStore;
  terminal: PaymentTerminal;
  runner: RecipeRunner;
  clock: Clock;
  logger: Logger;
  ulid: () => string;
  authTimeoutMs: number;
  reconcileIntervalMs: number;
  /** Storage faults (full, read-only) that refuse new sales; absent in unit tests without a disk. */
  storage?: Pick<StorageGuard, 'refusal'>;
  /** Cleaning: a rinse or descale running, or one overdue with the lock on, refuses new sales. */
  maintenance?: { refusal(): AgentError | undefined };
};

export const FREE_VEND_KEY = 'service.freeVend';
export const SALES_LOCK_KEY = 'sales.locked';
/** Set by an update while it writes and tries the new version; kept apart from the operator's lock. */
export const UPDATE_LOCK_KEY = 'sales.lockedForUpdate';

/** Sales are locked by the operator (lock command) or by an update being installed. */
export function salesLocked(settings: Pick<SettingsStore, 'get'>): boolean {
  return (
    (settings.get<boolean>(SALES_LOCK_KEY) ?? false) || (settings.get<boolean>(UPDATE_LOCK_KEY) ?? false)
  );
}

/**
 * Sells one drink at a time: authorize → brew → capture, void on any failure. Each state is committed before
 * the action it leads to; `start()` first resolves whatever a crash left open, and a reconcile timer retries
 * captures and voids the terminal could not confirm.
 */
export class OrderService {
  private readonly log: Logger;
  private readonly events = new EventEmitter();
  private readonly settlement: Settlement;
  private inFlight: { id: string; abort: AbortController; done: Promise<void> } | undefined;
  private reconciling: Promise<void> | undefined;
  private timer: ClockTimer | undefined;
  private started = false;
  /** Failures that could not be recorded yet (storage fault): the reconcile round records them with their code. */
  private readonly unrecorded = new Map<string, { code: string; reason: string }>();

  constructor(private readonly o: OrderServiceOptions) {
    this.log = o.logger.child({ ns: 'agent:orders' });
    this.events.setMaxListeners(0);
    this.settlement = new Settlement({
      ledger: o.ledger,
      terminal: o.terminal,
      logger: o.logger,
      now: () => o.clock.now(),
      authWindowMs: o.authTimeoutMs + 5_000,
    });
  }

  /**
   * Starts recovery of what a crash left open and takes orders at once: recovery only touches earlier orders,
   * and a terminal that is slow to answer must not keep the machine from selling.
   */
  async start(): Promise<void> {
    this.started = true;
    void this.reconcile();
    this.timer = this.o.clock.setInterval(() => void this.reconcile(), this.o.reconcileIntervalMs);
  }

  /** Stops taking orders and waits for the one in flight to reach a recorded state. */
  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) this.o.clock.clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight?.done;
    await this.reconciling;
  }

  /** Resolves once the order in flight (if any) has reached a recorded resting state. */
  async idle(): Promise<void> {
    await this.inFlight?.done;
  }

  get busy(): boolean {
    return this.inFlight !== undefined || this.o.runner.busy;
  }

  get currentOrderId(): string | undefined {
    return this.inFlight?.id;
  }

  /** Orders not yet completed or failed (in flight, or waiting for the terminal to settle them). */
  openCount(): number {
    return this.o.ledger.open().length;
  }

  get(id: string): Order | undefined {
    return this.o.ledger.get(id);
  }

  /**
   * Why no sale can start now, whatever the drink (the menu shows it): not started, sales locked, or the
   * store cannot record a sale (full, read-only). Undefined when sales are open.
   */
  salesRefusal(): ErrorCode | undefined {
    if (!this.started) return 'UNAVAILABLE';
    if (salesLocked(this.o.settings)) return 'SALES_LOCKED';
    return this.o.maintenance?.refusal()?.code ?? this.o.storage?.refusal();
  }

  /** Live updates of one order; returns the unsubscribe function. */
  subscribe(id: string, listener: (update: OrderUpdate) => void): () => void {
    const name = `order:${id}`;
    this.events.on(name, listener);
    return () => this.events.off(name, listener);
  }

  /** Every update of every order (metrics). */
  onUpdate(listener: (update: OrderUpdate) => void): () => void {
    this.events.on('update', listener);
    return () => this.events.off('update', listener);
  }

  /**
   * Accepts an order and starts it: the payment (card) or a recorded free vend, then the drink. Resolves as
   * soon as the order is durably recorded; follow it with `get`/`subscribe`.
   */
  create(input: CreateOrder): Order {
    const parsed = CreateOrderSchema.safeParse(input);
    if (!parsed.success) throw new AgentError('VALIDATION_FAILED', parsed.error.issues[0]?.message);
    const { recipeId, size, method } = parsed.data;
    if (!this.started) throw new AgentError('UNAVAILABLE', 'the agent is not ready for orders');
    if (this.busy) throw new AgentError('MACHINE_BUSY');
    const maintenance = salesLocked(this.o.settings) ? undefined : this.o.maintenance?.refusal();
    if (maintenance) throw maintenance;
    const refused = this.salesRefusal();
    if (refused) throw new AgentError(refused);
    if (method === 'free_vend' && !this.o.settings.get<boolean>(FREE_VEND_KEY)) {
      throw new AgentError('FORBIDDEN', 'free vend is only available in service mode');
    }
    const recipe = this.o.catalog.recipes().recipes.find((r) => r.id === recipeId);
    if (!recipe) throw new AgentError('NOT_FOUND', `no recipe ${recipeId}`);
    const price = this.o.catalog.priceOf(recipeId, size);
    if (!recipe.sizes.some((s) => s.id === size) || (method === 'card' && !price)) {
      throw new AgentError('RECIPE_UNAVAILABLE', `${recipe.name} is not sold in size ${size}`);
    }
    const blocked = this.o.runner.check(recipe, size);
    if (blocked) throw new AgentError(blocked);
    if (method === 'card' && !this.o.terminal.connected) {
      throw new AgentError('PAYMENT_FAILED', 'the payment terminal is offline');
    }

    const id = this.o.ulid();
    const card = method === 'card';
    const order = this.o.ledger.create(
      {
        id,
        recipeId,
        size,
        method,
        amount: card ? (price?.amount ?? 0) : 0,
        currency: price?.currency ?? this.o.catalog.prices().currency,
        state: card ? 'authorizing' : 'brewing',
      },
      card ? { id: this.o.ulid(), state: 'authorizing' } : undefined,
      { order: card ? ['created'] : ['created', 'paid', 'brewing'] },
    );
    const abort = new AbortController();
    const flight = { id, abort, done: Promise.resolve() };
    this.inFlight = flight;
    flight.done = this.run(order, recipe, abort.signal).finally(() => {
      if (this.inFlight === flight) this.inFlight = undefined;
    });
    this.emit(order);
    return order;
  }

  /** Stops the drink being made for this order (its payment is then voided). */
  abort(id: string): Order {
    const order = this.o.ledger.get(id);
    if (!order) throw new AgentError('NOT_FOUND', `no order ${id}`);
    if (this.inFlight?.id !== id || order.state !== 'brewing') {
      throw new AgentError('INVALID_TRANSITION', `order ${id} is ${order.state} and cannot be aborted`);
    }
    this.inFlight.abort.abort(new AgentError('BREW_FAILED', 'aborted by the customer'));
    return order;
  }

  /** Resolves every open order that is not in flight; one round at a time. */
  reconcile(): Promise<void> {
    this.reconciling ??= this.reconcileOnce().finally(() => {
      this.reconciling = undefined;
    });
    return this.reconciling;
  }

  private async reconcileOnce(): Promise<void> {
    let open: Order[];
    try {
      open = this.o.ledger.open();
    } catch (err) {
      this.log.error({ err: AgentError.from(err).message }, 'cannot read open orders');
      return;
    }
    for (const order of open) {
      if (order.id === this.inFlight?.id) continue;
      try {
        this.emit(await this.settlement.resolve(order, this.unrecorded.get(order.id)));
        this.unrecorded.delete(order.id);
      } catch (err) {
        this.log.error(
          { orderId: order.id, err: AgentError.from(err).message },
          'reconcile failed; will retry',
        );
      }
    }
  }

  private async run(order: Order, recipe: Recipe, signal: AbortSignal): Promise<void> {
    try {
      let current = order;
      if (order.method === 'card') {
        const paid = await this.authorize(order);
        if (!paid) return;
        current = paid;
      }
      await this.brew(current, recipe, signal);
    } catch (err) {
      const e = AgentError.from(err);
      this.log.error({ orderId: order.id, code: e.code, err: e.message }, 'order flow interrupted');
      if (e.code === 'STORAGE_FULL' || e.code === 'STORAGE_READ_ONLY') await this.failOnStorage(order.id, e);
    }
  }

  /**
   * A write failed under an order: record its failure with the real code and void its payment now (the disk
   * reserve makes room for that). If even that cannot be recorded, the void is still sent, and the reconcile
   * round records the failure with this code once the store takes writes again.
   */
  private async failOnStorage(id: string, e: AgentError): Promise<void> {
    const order = this.o.ledger.get(id);
    if (!order || FINAL_ORDER_STATES.includes(order.state)) return;
    this.unrecorded.set(id, { code: e.code, reason: e.message });
    try {
      this.emit(await this.settlement.fail(order, e.code, e.message));
      this.unrecorded.delete(id);
    } catch (err) {
      this.log.error(
        { orderId: id, err: AgentError.from(err).message },
        'failure not recorded; voiding anyway',
      );
      await this.settlement.voidUnrecorded(order);
    }
  }

  /** Returns the order in `brewing` once the authorization is recorded, or undefined if the order ended. */
  private async authorize(order: Order): Promise<Order | undefined> {
    let outcome: PaymentOutcome;
    try {
      outcome = await this.o.terminal.authorize(order.amount, order.currency, order.id, {
        timeoutMs: this.o.authTimeoutMs,
      });
    } catch (err) {
      const e = AgentError.from(err, 'PAYMENT_FAILED');
      // An ERR reply (no card in time, busy, bad state) is the terminal's word that nothing was authorized;
      // silence is not, and leaves the authorization in doubt until STATUS settles it.
      const noAuth = typeof (e.details as { code?: unknown } | undefined)?.code === 'string';
      this.emit(await this.settlement.fail(order, e.code, e.message, { noAuth }));
      return undefined;
    }
    if (outcome.state === 'declined') {
      this.emit(
        this.o.ledger.transition(
          order.id,
          {
            state: 'failed',
            code: 'PAYMENT_DECLINED',
            reason: outcome.reason ?? 'declined',
            payment: { state: 'declined', txn: outcome.txn },
          },
          { payment: 'declined', order: ['failed'] },
        ),
      );
      return undefined;
    }
    if (outcome.state !== 'authorized') {
      const uncertain = this.o.ledger.transition(order.id, { payment: { txn: outcome.txn } });
      this.emit(await this.settlement.fail(uncertain, 'PAYMENT_FAILED', `authorization ${outcome.state}`));
      return undefined;
    }
    // Not from the disk reserve: on a full disk the sale stops here and the reserve records its void.
    const brewing = this.o.ledger.transition(
      order.id,
      { state: 'brewing', payment: { state: 'authorized', txn: outcome.txn } },
      { payment: 'authorized', order: ['paid', 'brewing'] },
      { reserve: false },
    );
    this.emit(brewing);
    return brewing;
  }

  private async brew(order: Order, recipe: Recipe, signal: AbortSignal): Promise<void> {
    let dispensed: Awaited<ReturnType<RecipeRunner['brew']>>;
    try {
      dispensed = await this.o.runner.brew(recipe, order.size, {
        signal,
        onProgress: (progress) => this.emit(order, progress),
      });
    } catch (err) {
      const e = AgentError.from(err, 'BREW_FAILED');
      this.emit(await this.settlement.fail(order, e.code, e.message));
      return;
    }
    const at = this.o.clock.now();
    if (!order.payment) {
      this.emit(
        this.o.ledger.transition(
          order.id,
          { state: 'completed', dispensedAt: at, consumption: dispensed.dispensed },
          { order: ['completed'] },
        ),
      );
      return;
    }
    const capturing = this.o.ledger.transition(order.id, {
      state: 'capturing',
      dispensedAt: at,
      consumption: dispensed.dispensed,
      payment: { state: 'capturing' },
    });
    this.emit(capturing);
    this.emit(await this.settlement.capture(capturing));
  }

  private emit(order: Order, progress?: BrewProgress): void {
    const update: OrderUpdate = progress ? { order, progress } : { order };
    this.events.emit(`order:${order.id}`, update);
    this.events.emit('update', update);
    if (FINAL_ORDER_STATES.includes(order.state))
      this.log.info({ orderId: order.id, state: order.state, code: order.code }, 'order finished');
  }
}
