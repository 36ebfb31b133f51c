import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultRecipeSet } from '../src/orders/default-recipe-set';
import { buildMenu } from '../src/orders/menu';
import { WAL_SIZE_LIMIT_BYTES } from '../src/store/database';
import { Store } from '../src/store/store';
import { FakeClock } from '../src/time/fake-clock';
import { deferred, orderHarness } from './helpers/orders/harness';

const espresso = { recipeId: 'espresso', size: 'M', method: 'card' } as const;
const RESERVE = 256 * 1024;

/**
 * A small real filesystem (tmpfs, we run as root in CI). Where mounting is not allowed the same scenarios run
 * on an ordinary directory with SQLite's page limit standing in for the full disk.
 */
const root = mkdtempSync(join(tmpdir(), 'crema-disk-'));
const mounted = (() => {
  // CREMA_TEST_NO_MOUNT=1 runs the stand-in where mounting would work (to check the stand-in itself).
  if (process.env.CREMA_TEST_NO_MOUNT === '1') return false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', root], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

type Disk = { fill(): void; free(): void; readOnly(on: boolean): void };

function openStore(name: string) {
  const clock = new FakeClock();
  const store = Store.open({
    dataDir: join(root, name),
    deviceId: 'dev-disk',
    outboxMaxBytes: 1 << 24,
    clock,
    defaults: defaultRecipeSet('EUR'),
    reserveBytes: RESERVE,
  });
  return { store, clock };
}

function diskFor(store: Store): Disk {
  const filler = join(root, 'filler.bin');
  if (mounted) {
    return {
      fill() {
        const fd = openSync(filler, 'a');
        const chunk = Buffer.alloc(64 * 1024, 1);
        try {
          for (;;) writeSync(fd, chunk);
        } catch {
          // ENOSPC: the volume is full
        } finally {
          closeSync(fd);
        }
      },
      free: () => unlinkSync(filler),
      // A volume cannot be remounted read-only under an open database; the connection is made read-only.
      readOnly: (on) => store.db.pragma(`query_only = ${on ? 'ON' : 'OFF'}`),
    };
  }
  // Stand-in: the page limit is the disk; deleting the ballast gives back 64 pages; rebuilding needs room.
  let full = false;
  const guard = store.storage;
  const release = guard.release.bind(guard);
  const rebuild = guard.rebuild.bind(guard);
  guard.release = () => {
    if (full)
      store.db.pragma(`max_page_count = ${(store.db.pragma('page_count', { simple: true }) as number) + 64}`);
    return release();
  };
  guard.rebuild = () => !full && rebuild();
  return {
    fill() {
      full = true;
      store.db.pragma(`max_page_count = ${store.db.pragma('page_count', { simple: true })}`);
      // Fill the last pages too, with the same kind of rows a sale appends (outbox records).
      for (let misses = 0; misses < 20; ) {
        try {
          store.sink.emit('telemetry', { samples: [{ ts: 1, metric: 'boiler_temp_c', value: misses }] });
        } catch {
          misses++;
        }
      }
    },
    free() {
      full = false;
      store.db.pragma('max_page_count = 1073741823');
    },
    readOnly: (on) => store.db.pragma(`query_only = ${on ? 'ON' : 'OFF'}`),
  };
}

describe(`disk faults on the agent (${mounted ? 'tmpfs of 4 MiB' : 'page-limit stand-in'})`, () => {
  beforeAll(() => mkdirSync(root, { recursive: true }));
  // Each scenario starts on an empty volume (its store is closed by then).
  afterEach(() => {
    for (const name of readdirSync(root)) rmSync(join(root, name), { recursive: true, force: true });
  });
  afterAll(() => {
    if (mounted) execFileSync('umount', ['-l', root]);
    rmSync(root, { recursive: true, force: true });
  });

  it('disk full during a card authorization: the failure is recorded with its code and the hold voided', async () => {
    const { store, clock } = openStore('full');
    const h = orderHarness({ store, clock });
    const disk = diskFor(store);
    await h.service.start();
    expect(h.service.salesRefusal()).toBeUndefined();
    const gate = deferred();
    h.terminal.authGate = gate.promise;
    const order = h.service.create(espresso);
    disk.fill();
    gate.resolve();
    await h.service.idle();

    const txn = h.terminal.byRef(order.id);
    expect(txn?.state).toBe('voided');
    expect(h.ledger.get(order.id)).toMatchObject({
      state: 'failed',
      code: 'STORAGE_FULL',
      payment: { state: 'voided' },
    });
    expect(h.ledger.open()).toEqual([]);
    const failed = store.outbox.peek(50).find((r) => r.type === 'order' && r.body.event === 'failed');
    expect(failed?.body).toMatchObject({ orderId: order.id, code: 'STORAGE_FULL' });

    // New sales are refused with the reason, on the menu too, and nothing changes.
    expect(h.service.salesRefusal()).toBe('STORAGE_FULL');
    const before = h.ledger.recent(100).length;
    expect(() => h.service.create(espresso)).toThrow(expect.objectContaining({ code: 'STORAGE_FULL' }));
    const menu = buildMenu(store.catalog, h.runner, h.service.salesRefusal());
    expect(menu.items.flatMap((i) => i.sizes).every((s) => !s.available && s.reason === 'STORAGE_FULL')).toBe(
      true,
    );
    expect(h.ledger.recent(100)).toHaveLength(before);
    expect(store.db.pragma('quick_check', { simple: true })).toBe('ok');

    // The space comes back: the reserve is rebuilt and the machine sells again.
    disk.free();
    expect(h.service.salesRefusal()).toBeUndefined();
    expect(store.storage.held).toBe(true);
    const again = h.service.create(espresso);
    await h.service.idle();
    expect(h.ledger.get(again.id)?.state).toBe('completed');
    await h.service.stop();
    store.close();
  });

  it('read-only store: new sales refused with STORAGE_READ_ONLY (menu included), then recovery', async () => {
    const { store, clock } = openStore('readonly');
    const h = orderHarness({ store, clock });
    const disk = diskFor(store);
    await h.service.start();
    const sold = h.service.create(espresso);
    await h.service.idle();
    disk.readOnly(true);
    try {
      expect(() => h.service.create(espresso)).toThrow(
        expect.objectContaining({ code: 'STORAGE_READ_ONLY' }),
      );
      expect(h.service.salesRefusal()).toBe('STORAGE_READ_ONLY');
      const menu = buildMenu(store.catalog, h.runner, h.service.salesRefusal());
      expect(menu).toMatchObject({ salesRefusal: 'STORAGE_READ_ONLY' });
      expect(menu.items.every((i) => !i.available)).toBe(true);
    } finally {
      disk.readOnly(false);
    }
    expect(h.service.salesRefusal()).toBeUndefined();
    const again = h.service.create(espresso);
    await h.service.idle();
    expect([h.ledger.get(sold.id)?.state, h.ledger.get(again.id)?.state]).toEqual(['completed', 'completed']);
    expect(store.db.pragma('quick_check', { simple: true })).toBe('ok');
    await h.service.stop();
    store.close();
  });

  it('store turns read-only during an authorization: the hold is voided at once, recorded with its code later', async () => {
    const { store, clock } = openStore('readonly-auth');
    const h = orderHarness({ store, clock });
    const disk = diskFor(store);
    await h.service.start();
    const gate = deferred();
    h.terminal.authGate = gate.promise;
    const order = h.service.create(espresso);
    disk.readOnly(true);
    gate.resolve();
    await h.service.idle();
    // Nothing could be written, but the card hold is not left open for the outage.
    expect(h.terminal.byRef(order.id)?.state).toBe('voided');
    expect(h.ledger.get(order.id)?.state).toBe('authorizing');
    disk.readOnly(false);
    await h.service.reconcile();
    expect(h.ledger.get(order.id)).toMatchObject({
      state: 'failed',
      code: 'STORAGE_READ_ONLY',
      payment: { state: 'voided' },
    });
    expect(h.terminal.calls.filter((c) => c.startsWith('VOID'))).toHaveLength(1);
    await h.service.stop();
    store.close();
  });

  it('keeps the WAL bounded under a stream of writes', () => {
    const { store } = openStore('wal');
    let largest = 0;
    for (let t = 0; t < 150; t++) {
      store.db.transaction(() => {
        for (let i = 0; i < 20; i++) {
          store.sink.emit('telemetry', { samples: [{ ts: t, metric: 'boiler_temp_c', value: i }] });
        }
      })();
      largest = Math.max(largest, statSync(join(root, 'wal', 'agent.db-wal')).size);
    }
    // One transaction past the checkpoint threshold may overshoot it before the checkpoint truncates.
    expect(largest).toBeLessThan(WAL_SIZE_LIMIT_BYTES + 128 * 1024);
    store.close();
  });
});
