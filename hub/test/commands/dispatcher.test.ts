import type { Command } from '@crema/protocol';
import { systemClock } from '@crema/protocol';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CommandDispatcher } from '../../src/commands/dispatcher';
import { CommandService } from '../../src/commands/service';
import type { Db } from '../../src/db/connect';
import { FleetEvents } from '../../src/fleet/events';
import type { OpsContext } from '../../src/operations/context';
import { OpsEventBus } from '../../src/operations/events/bus';
import { eventually } from '../device-channel/support/hub';
import { seedTenants, testContext } from '../operations/support/fixtures';
import { BACKENDS, openTestDb, type TestDb } from '../support/db';

/** The dispatcher's rules against a real store, with the broker replaced by a recording `send`. */
describe.each(BACKENDS)('command dispatcher on %s', (backend) => {
  let store: TestDb;
  let db: Db;
  let ctx: OpsContext;
  let dispatcher: CommandDispatcher | undefined;
  const m1 = { merchantId: 'm1' };

  beforeAll(async () => {
    store = await openTestDb(backend);
    db = store.db;
    await seedTenants(db);
    ctx = testContext(db).ctx;
  });
  afterEach(async () => {
    await dispatcher?.stop();
  });
  afterAll(async () => {
    await store.cleanup();
  });

  const status = async (id: string) =>
    (await db.kysely.selectFrom('commands').select('status').where('id', '=', id).executeTakeFirstOrThrow())
      .status;
  const setup = (
    online: Set<string>,
    send: (deviceId: string, c: Command) => Promise<unknown>,
    perDevice = 100,
  ) => {
    const bus = new OpsEventBus();
    const fleet = new FleetEvents();
    dispatcher = new CommandDispatcher({
      ctx,
      bus,
      fleet,
      isOnline: (id) => online.has(id),
      send,
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      sweepIntervalMs: 60_000,
      perDevice,
    });
    dispatcher.start();
    return { bus, fleet };
  };
  const queue = async (deviceId: string) =>
    (
      await new CommandService(ctx).create(
        m1,
        { userId: 'u1' },
        { kind: 'diagnostics', target: { deviceIds: [deviceId] } },
      )
    ).commands[0]!.id;

  it('leaves a command queued when the broker refuses it, and sends it on the next pass', async () => {
    let refuse = true;
    const sent: string[] = [];
    setup(new Set(['m1-dev-1']), async (_d, c) => {
      if (refuse) throw new Error('broker gone');
      sent.push(c.commandId);
    });
    const id = await queue('m1-dev-1');
    await dispatcher!.sweep();
    await new Promise((r) => setTimeout(r, 100));
    expect(await status(id)).toBe('queued');
    refuse = false;
    await dispatcher!.sweep();
    await eventually(async () => (await status(id)) === 'delivered');
    expect(sent).toEqual([id]);
  });

  it('sends nothing to an offline device, and everything unfinished again on its birth', async () => {
    const online = new Set<string>();
    const sent: string[] = [];
    const { bus, fleet } = setup(online, async (_d, c) => {
      sent.push(c.commandId);
    });
    const id = await queue('m1-dev-2');
    bus.publish({ type: 'command.queued', merchantId: 'm1', deviceId: 'm1-dev-2', at: 0, data: { id } });
    await dispatcher!.sweep();
    await new Promise((r) => setTimeout(r, 100));
    expect(sent).toEqual([]);

    online.add('m1-dev-2');
    fleet.emit('online', { deviceId: 'm1-dev-2', merchantId: 'm1', at: 0 });
    await eventually(async () => (await status(id)) === 'delivered');
    // A reconnect (birth) sends the delivered but unfinished command again.
    fleet.emit('birth', {
      deviceId: 'm1-dev-2',
      merchantId: 'm1',
      at: 0,
      birth: {
        model: 'cm-1',
        firmwareVersion: '1.0.0',
        agentVersion: '1.0.0',
        capabilities: [],
        recipeSetVersion: 0,
        priceListVersion: 0,
        configVersion: 0,
        lastSeq: 0,
        bootId: 'b',
      },
    });
    await eventually(async () => sent.length === 2);
    expect(sent).toEqual([id, id]);
  });

  it('sends a backlog once, page by page, when a device connects (online and birth together)', async () => {
    const online = new Set<string>();
    const sent: string[] = [];
    const { fleet } = setup(
      online,
      async (_d, c) => {
        sent.push(c.commandId);
      },
      2,
    );
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await queue('m1-dev-3'));
    online.add('m1-dev-3');
    fleet.emit('online', { deviceId: 'm1-dev-3', merchantId: 'm1', at: 0 });
    fleet.emit('birth', {
      deviceId: 'm1-dev-3',
      merchantId: 'm1',
      at: 0,
      birth: {
        model: 'cm-1',
        firmwareVersion: '1.0.0',
        agentVersion: '1.0.0',
        capabilities: [],
        recipeSetVersion: 0,
        priceListVersion: 0,
        configVersion: 0,
        lastSeq: 0,
        bootId: 'b',
      },
    });
    await eventually(async () => {
      const rows = await db.kysely.selectFrom('commands').select('status').where('id', 'in', ids).execute();
      return rows.every((r) => r.status === 'delivered');
    });
    await dispatcher!.sweep();
    await new Promise((r) => setTimeout(r, 100));
    expect([...sent].sort()).toEqual([...ids].sort());
  });
});
