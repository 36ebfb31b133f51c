import { createUlidGenerator } from '@crema/protocol';
import { silentLogger } from '../../../src/log/logger';
import { defaultRecipeSet } from '../../../src/orders/default-recipe-set';
import { OrderLedger } from '../../../src/orders/ledger';
import { OrderService } from '../../../src/orders/order-service';
import { Store } from '../../../src/store/store';
import { FakeClock } from '../../../src/time/fake-clock';
import { FakeRecipeRunner } from './fake-runner';
import { FakePaymentTerminal } from './fake-terminal';

/** An order service over an in-memory SQLite ledger, a fake terminal and a fake runner, in virtual time. */
export function orderHarness(options: { store?: Store; clock?: FakeClock; authTimeoutMs?: number } = {}) {
  const clock = options.clock ?? new FakeClock();
  const store =
    options.store ??
    Store.open({
      dataDir: ':memory:',
      deviceId: 'dev-001',
      outboxMaxBytes: 1 << 24,
      clock,
      defaults: defaultRecipeSet('EUR'),
    });
  const terminal = new FakePaymentTerminal();
  const runner = new FakeRecipeRunner();
  const ledger = new OrderLedger(store.db, store.outbox, () => clock.now(), store.storage);
  const ulid = createUlidGenerator(() => clock.now());
  const service = new OrderService({
    ledger,
    catalog: store.catalog,
    settings: store.settings,
    terminal,
    runner,
    clock,
    logger: silentLogger,
    ulid,
    authTimeoutMs: options.authTimeoutMs ?? 10_000,
    reconcileIntervalMs: 1_000,
    storage: store.storage,
  });
  return { clock, store, terminal, runner, ledger, service, ulid };
}

export type OrderHarness = ReturnType<typeof orderHarness>;

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
