import type { Command } from '@crema/protocol';
import { systemClock } from '@crema/protocol';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claimCommands } from '../../src/commands/claims';
import { CommandDispatcher } from '../../src/commands/dispatcher';
import { CommandService } from '../../src/commands/service';
import { JobLeases } from '../../src/coordination/leases';
import { ScheduledJob } from '../../src/coordination/scheduled-job';
import { type Db, openDb } from '../../src/db/connect';
import { FleetEvents } from '../../src/fleet/events';
import type { OpsContext } from '../../src/operations/context';
import { OpsEventBus } from '../../src/operations/events/bus';
import { eventually } from '../device-channel/support/hub';
import { seedTenants, T0, testContext } from '../operations/support/fixtures';
import { BACKENDS, openTestDb, TEST_PG_URL, type TestDb } from '../support/db';

const logger = pino({ level: 'silent' });

/**
 * Two hub processes' worth of dispatchers on one PostgreSQL schema, each with its own connection pool and
 * process id, the broker replaced by a recording `send`: every command is handed over once in total.
 */
describe.runIf(BACKENDS.includes('postgres'))('commands dispatched once by two hubs on PostgreSQL', () => {
  let store: TestDb;
  let second: Db;
  let ctxA: OpsContext;
  let ctxB: OpsContext;
  let fake: ReturnType<typeof testContext>['clock'];
  const running: CommandDispatcher[] = [];

  beforeAll(async () => {
    store = await openTestDb('postgres');
    second = openDb(TEST_PG_URL, { schema: store.db.schema, poolMax: 4 });
    await seedTenants(store.db);
    const a = testContext(store.db);
    fake = a.clock;
    ctxA = a.ctx;
    ctxB = testContext(second, fake).ctx;
  });
  afterEach(async () => {
    for (const d of running.splice(0)) await d.stop();
  });
  afterAll(async () => {
    await second?.close();
    await store?.cleanup();
  });

  const dispatcher = (ctx: OpsContext, name: string, sent: Map<string, string[]>, perDevice = 7) => {
    const fleet = new FleetEvents();
    const d = new CommandDispatcher({
      ctx,
      bus: new OpsEventBus(),
      fleet,
      isOnline: async () => true,
      send: async (_device, c: Command) => {
        // A broker round trip: lets the other hub's pass run meanwhile.
        await new Promise((r) => setTimeout(r, 1));
        sent.set(c.commandId, [...(sent.get(c.commandId) ?? []), name]);
      },
      clock: systemClock,
      logger,
      leases: new JobLeases(ctx.db, fake, `hub-${name}`),
      sweepIntervalMs: 60_000,
      perDevice,
    });
    d.start();
    running.push(d);
    return { d, fleet };
  };
  const queue = async (deviceIds: string[]) =>
    (
      await new CommandService(ctxA).create(
        { merchantId: 'm1' },
        { userId: 'u1' },
        { kind: 'diagnostics', target: { deviceIds } },
      )
    ).commands.map((c) => c.id);

  it('hands each queued command to the broker once while both hubs pass over the same devices', async () => {
    const devices = ['m1-dev-1', 'm1-dev-2', 'm1-dev-3'];
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push(...(await queue(devices)));
    const sent = new Map<string, string[]>();
    const a = dispatcher(ctxA, 'a', sent);
    const b = dispatcher(ctxB, 'b', sent);
    // Both hubs see every device come online and run catch-up passes at the same time.
    for (const deviceId of devices) {
      a.fleet.emit('online', { deviceId, merchantId: 'm1', at: T0 });
      b.fleet.emit('online', { deviceId, merchantId: 'm1', at: T0 });
    }
    await Promise.all([a.d.sweep(), b.d.sweep(), a.d.sweep(), b.d.sweep()]);
    await eventually(async () => {
      const rows = await store.db.kysely
        .selectFrom('commands')
        .select('status')
        .where('id', 'in', ids)
        .execute();
      return rows.every((r) => r.status === 'delivered');
    }, 20_000);
    await Promise.all([a.d.sweep(), b.d.sweep()]);
    await new Promise((r) => setTimeout(r, 100));
    const twice = [...sent].filter(([, by]) => by.length > 1);
    expect(twice).toEqual([]);
    expect([...sent.keys()].sort()).toEqual([...ids].sort());
    // Both took part (the claims split the work rather than one hub doing it all by luck).
    const by = new Set([...sent.values()].flat());
    expect(by.size).toBe(2);
    const claimed = await store.db.kysely
      .selectFrom('commands')
      .select('id')
      .where('dispatch_owner', 'is not', null)
      .execute();
    expect(claimed).toEqual([]);
  }, 30_000);

  it('leaves a command claimed by a hub that died alone until the claim runs out, then sends it', async () => {
    const [id] = await queue(['m1-dev-1']);
    const taken = await claimCommands(ctxA, 'm1-dev-1', ['queued'], 10, 'hub-dead', 30_000);
    expect(taken.map((c) => c.commandId)).toEqual([id]);
    const sent = new Map<string, string[]>();
    const b = dispatcher(ctxB, 'b', sent);
    await b.d.sweep();
    await new Promise((r) => setTimeout(r, 200));
    expect(sent.size).toBe(0);
    await fake.advance(30_001);
    await b.d.sweep();
    await eventually(async () => sent.has(id!));
    expect(sent.get(id!)).toEqual(['b']);
  });
});

describe.each(BACKENDS)('job leases on %s', (backend) => {
  let store: TestDb;
  let other: Db;

  beforeAll(async () => {
    store = await openTestDb(backend);
    other = backend === 'postgres' ? openDb(TEST_PG_URL, { schema: store.db.schema, poolMax: 4 }) : store.db;
  });
  afterAll(async () => {
    if (other !== store.db) await other.close();
    await store?.cleanup();
  });

  it('gives a job to one process at a time, and to another once the holder stops renewing', async () => {
    const { clock } = testContext(store.db);
    const a = new JobLeases(store.db.kysely, clock, 'hub-a');
    const b = new JobLeases(other.kysely, clock, 'hub-b');
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).acquire('job.x', 1000)),
    );
    expect(results.filter(Boolean).length).toBeGreaterThanOrEqual(1);
    const holder = await a.holderOf('job.x');
    const [mine, theirs] = holder === 'hub-a' ? [a, b] : [b, a];
    expect(await mine.acquire('job.x', 1000)).toBe(true);
    expect(await theirs.acquire('job.x', 1000)).toBe(false);
    await clock.advance(1001);
    expect(await theirs.acquire('job.x', 1000)).toBe(true);
    expect(await mine.acquire('job.x', 1000)).toBe(false);
    await theirs.release('job.x');
    expect(await mine.acquire('job.x', 1000)).toBe(true);
  });

  it('runs a scheduled job in one of two processes per period', async () => {
    const { clock } = testContext(store.db);
    let runs = 0;
    const job = (holder: string, db: Db) =>
      new ScheduledJob({
        name: 'job.count',
        everyMs: 1000,
        run: async () => {
          runs++;
        },
        leases: new JobLeases(db.kysely, clock, holder),
        clock,
        logger,
      });
    const a = job('hub-a', store.db);
    const b = job('hub-b', other);
    const ran = await Promise.all([a.runOnce(), b.runOnce()]);
    expect(ran.filter(Boolean)).toHaveLength(1);
    expect(runs).toBe(1);
    await Promise.all([a.runOnce(), b.runOnce()]);
    expect(runs).toBe(2);
    // The holder stops cleanly: the other takes over at its next period without waiting for the lease.
    const holderJob = ran[0] ? a : b;
    const otherJob = ran[0] ? b : a;
    await holderJob.stop();
    expect(await otherJob.runOnce()).toBe(true);
  });
});
