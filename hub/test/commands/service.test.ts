import type { FakeClock } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandDelivery } from '../../src/commands/delivery';
import { expireDueCommands } from '../../src/commands/expiry';
import { UNSENT } from '../../src/commands/lifecycle';
import { pendingCommands } from '../../src/commands/pending';
import { CommandService } from '../../src/commands/service';
import type { Db } from '../../src/db/connect';
import type { OpsContext } from '../../src/operations/context';
import { ALL_MERCHANTS } from '../../src/operations/context';
import { seedTenants, testContext } from '../operations/support/fixtures';
import { BACKENDS as backends, openTestDb, type TestDb } from '../support/db';

const m1 = { merchantId: 'm1' };
const m2 = { merchantId: 'm2' };
const ops = { userId: 'ops-1' };

describe.each(backends)('commands on %s', (kind) => {
  let store: TestDb;
  let db: Db;
  let ctx: OpsContext;
  let clock: FakeClock;
  let svc: CommandService;
  let delivery: CommandDelivery;

  beforeAll(async () => {
    store = await openTestDb(kind);
    db = store.db;
    await seedTenants(db);
    ({ ctx, clock } = testContext(db));
    svc = new CommandService(ctx);
    delivery = new CommandDelivery(ctx);
  });
  afterAll(() => store.cleanup());

  it('creates a batch by device list, location and merchant, with protocol defaults applied', async () => {
    const byList = await svc.create(m1, ops, {
      kind: 'rinse',
      target: { deviceIds: ['m1-dev-1', 'm1-dev-2'] },
    });
    expect(byList.commands.map((c) => c.deviceId).sort()).toEqual(['m1-dev-1', 'm1-dev-2']);
    expect(byList.commands[0]?.params).toEqual({ cycles: 1 });
    expect(byList.batch.counts).toEqual({ queued: 2 });
    const byLoc = await svc.create(m1, ops, { kind: 'lock', params: {}, target: { locationId: 'm1-loc-b' } });
    expect(byLoc.commands.map((c) => c.deviceId)).toEqual(['m1-dev-3']);
    const byMerchant = await svc.create(m1, ops, { kind: 'diagnostics', target: { merchantId: 'm1' } });
    expect(byMerchant.batch.total).toBe(3);
  });

  it('refuses bad params and other merchants’ targets, storing nothing', async () => {
    const before = (await svc.list(ALL_MERCHANTS, {})).total;
    await expect(
      svc.create(m1, ops, { kind: 'rinse', params: { cycles: 99 }, target: { deviceIds: ['m1-dev-1'] } }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(
      svc.create(m1, ops, { kind: 'launch_missiles', target: { deviceIds: ['m1-dev-1'] } }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(
      svc.create(m1, ops, { kind: 'rinse', target: { deviceIds: ['m1-dev-1', 'm2-dev-1'] } }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      svc.create(m1, ops, { kind: 'rinse', target: { locationId: 'm2-loc-a' } }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(svc.create(m1, ops, { kind: 'rinse', target: { merchantId: 'm2' } })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect((await svc.list(ALL_MERCHANTS, {})).total).toBe(before);
  });

  it('lists only the caller’s commands', async () => {
    await svc.create(m2, ops, { kind: 'unlock', target: { deviceIds: ['m2-dev-1'] } });
    const mine = await svc.list(m1, { limit: 500 });
    expect(mine.items.every((c) => c.merchantId === 'm1')).toBe(true);
    const theirs = await svc.list(m2, {});
    expect(theirs.total).toBe(1);
    await expect(svc.get(m1, theirs.items[0]!.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await svc.listBatches(m2, {})).total).toBe(1);
  });

  it('delivers, reports progress and results, and ignores reports that go backwards', async () => {
    const { commands } = await svc.create(m1, ops, { kind: 'restart', target: { deviceIds: ['m1-dev-3'] } });
    const id = commands[0]!.id;
    const next = await pendingCommands(ctx, 'm1-dev-3', UNSENT, 20);
    expect(next.map((c) => c.commandId)).toContain(id);
    expect(next.find((c) => c.commandId === id)?.params).toEqual({ target: 'agent' });
    expect(await delivery.markDelivered([id])).toEqual([id]);
    expect((await pendingCommands(ctx, 'm1-dev-3', UNSENT, 20)).map((c) => c.commandId)).not.toContain(id);
    expect(
      await delivery.applyProgress('m1-dev-3', { commandId: id, status: 'deferred', at: clock.now() }),
    ).toBe(true);
    expect(
      await delivery.applyProgress('m1-dev-3', { commandId: id, status: 'executing', at: clock.now() }),
    ).toBe(true);
    expect(
      await delivery.applyResult('m1-dev-3', {
        commandId: id,
        status: 'succeeded',
        output: { ok: 1 },
        at: clock.now(),
      }),
    ).toBe(true);
    expect(
      await delivery.applyProgress('m1-dev-3', { commandId: id, status: 'executing', at: clock.now() }),
    ).toBe(false);
    expect(await delivery.applyResult('m2-dev-1', { commandId: id, status: 'failed', at: clock.now() })).toBe(
      false,
    );
    const view = await svc.get(m1, id);
    expect(view.status).toBe('succeeded');
    expect(view.result?.output).toEqual({ ok: 1 });
  });

  it('records delivery of a command whose reports overtook the delivered mark', async () => {
    const { commands } = await svc.create(m1, ops, { kind: 'lock', target: { deviceIds: ['m1-dev-2'] } });
    const id = commands[0]!.id;
    const executingAt = clock.now();
    expect(
      await delivery.applyProgress('m1-dev-2', { commandId: id, status: 'executing', at: executingAt }),
    ).toBe(true);
    await clock.advance(5);
    expect(
      await delivery.applyResult('m1-dev-2', { commandId: id, status: 'succeeded', at: clock.now() }),
    ).toBe(true);
    // The dispatcher's bulk mark comes last and only moves queued rows: it must neither move nor erase anything.
    expect(await delivery.markDelivered([id])).toEqual([]);
    const view = await svc.get(m1, id);
    expect(view.status).toBe('succeeded');
    expect(view.deliveredAt).toBe(executingAt);
    expect(view.finishedAt).toBe(executingAt + 5);
  });

  it('keeps the first delivery time when later reports arrive', async () => {
    const { commands } = await svc.create(m1, ops, { kind: 'unlock', target: { deviceIds: ['m1-dev-2'] } });
    const id = commands[0]!.id;
    const deliveredAt = clock.now();
    await delivery.markDelivered([id]);
    await clock.advance(10);
    await delivery.applyProgress('m1-dev-2', { commandId: id, status: 'executing', at: clock.now() });
    await delivery.applyResult('m1-dev-2', {
      commandId: id,
      status: 'failed',
      code: 'DOOR_OPEN',
      at: clock.now(),
    });
    expect((await svc.get(m1, id)).deliveredAt).toBe(deliveredAt);
  });

  it('cancels only a queued command', async () => {
    const { commands } = await svc.create(m1, ops, {
      kind: 'unlock',
      target: { deviceIds: ['m1-dev-1', 'm1-dev-2'] },
    });
    const [a, b] = commands;
    const cancelled = await svc.cancel(m1, a!.id);
    expect(cancelled.after.status).toBe('cancelled');
    await expect(svc.cancel(m1, a!.id)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    await delivery.markDelivered([b!.id]);
    await expect(svc.cancel(m1, b!.id)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    await expect(svc.cancel(m2, b!.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('expires commands past their TTL on the injected clock, then retries the failed ones of the batch', async () => {
    const { batch, commands } = await svc.create(m1, ops, {
      kind: 'rinse',
      ttlMs: 60_000,
      target: { locationId: 'm1-loc-a' },
    });
    const [a, b] = commands;
    await delivery.markDelivered([a!.id]);
    await delivery.applyResult(a!.deviceId, {
      commandId: a!.id,
      status: 'failed',
      code: 'DOOR_OPEN',
      at: clock.now(),
    });
    expect(await expireDueCommands(ctx)).toBe(0);
    await clock.advance(59_999);
    expect(await expireDueCommands(ctx)).toBe(0);
    await clock.advance(1);
    expect(await expireDueCommands(ctx)).toBeGreaterThanOrEqual(1);
    expect((await svc.get(m1, b!.id)).status).toBe('expired');
    expect((await pendingCommands(ctx, b!.deviceId, UNSENT, 20)).map((c) => c.commandId)).not.toContain(
      b!.id,
    );
    expect((await svc.getBatch(m1, batch.id)).counts).toEqual({ failed: 1, expired: 1 });

    const retried = await svc.retryFailed(m1, ops, batch.id);
    expect(retried.map((c) => c.retryOf).sort()).toEqual([a!.id, b!.id].sort());
    expect(retried.every((c) => c.status === 'queued' && c.expiresAt === clock.now() + 60_000)).toBe(true);
    expect(await svc.retryFailed(m1, ops, batch.id)).toEqual([]);
    await expect(svc.retryFailed(m2, ops, batch.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
