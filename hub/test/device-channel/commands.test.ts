import { readBundleManifest } from '@crema/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleMenu } from '../operations/support/recipes';
import { BACKENDS } from '../support/db';
import { CommandDevice, eventually, type SyncHub, startSyncHub } from './support/hub';

/**
 * Commands end to end over a real broker: the admin API creates them, real MQTT clients acting as machines
 * receive them on their own topic and report progress and results, and the API shows the status follow.
 */
describe.each(BACKENDS)('command dispatch over MQTT on %s', (backend) => {
  let h: SyncHub;
  const devices: CommandDevice[] = [];
  let n = 0;

  beforeAll(async () => {
    h = await startSyncHub(backend);
  }, 30_000);
  afterAll(async () => {
    for (const d of devices) await d.close().catch(() => undefined);
    await h?.stop();
  });

  const newDevice = async () => {
    n += 1;
    const id = `cm-${backend}-${n}-${Date.now() % 100_000}`;
    return { id, secret: await h.register(id) };
  };
  const connect = async (id: string, secret: string) => {
    const d = await CommandDevice.connect(h.at.mqtt, id, secret);
    devices.push(d);
    await eventually(async () => (await h.api('GET', `/api/v1/devices/${id}`)).body.state?.online === true);
    return d;
  };
  const create = async (deviceIds: string[], kind = 'diagnostics', extra: object = {}) => {
    const res = await h.api('POST', '/api/v1/commands', { kind, target: { deviceIds }, ...extra });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { batch: { id: string }; commands: { id: string; deviceId: string }[] };
  };
  const command = async (id: string) => (await h.api('GET', `/api/v1/commands/${id}`)).body;
  const statusBecomes = (id: string, status: string) =>
    eventually(async () => (await command(id)).status === status);

  it('sends a created command to its machine and follows progress and result to succeeded', async () => {
    const { id, secret } = await newDevice();
    const device = await connect(id, secret);
    const created = await create([id]);
    const commandId = created.commands[0]!.id;

    const received = await device.waitForCommand((c) => c.commandId === commandId);
    expect(received).toMatchObject({ kind: 'diagnostics', idempotencyKey: expect.any(String) });
    expect(received.expiresAt).toBeGreaterThan(received.issuedAt);
    await statusBecomes(commandId, 'delivered');

    await device.progress(commandId, 'executing');
    await statusBecomes(commandId, 'executing');
    await device.result(commandId, 'succeeded', { boilerTempC: 92.4 });
    await statusBecomes(commandId, 'succeeded');
    const done = await command(commandId);
    expect(done.result.output).toEqual({ boilerTempC: 92.4 });
    expect(done.deliveredAt).not.toBeNull();

    // A late progress report never moves a finished command back.
    await device.progress(commandId, 'executing');
    const marker = await device.result(commandId, 'failed');
    expect(marker.id).toBeDefined();
    expect((await command(commandId)).status).toBe('succeeded');
    expect(device.commands.filter((c) => c.commandId === commandId)).toHaveLength(1);
  }, 30_000);

  it('delivers a batch to the online machines at once and to an offline one when it connects', async () => {
    const a = await newDevice();
    const b = await newDevice();
    const c = await newDevice();
    const da = await connect(a.id, a.secret);
    const db = await connect(b.id, b.secret);
    const { batch, commands } = await create([a.id, b.id, c.id], 'rinse', { params: { cycles: 2 } });
    const idOf = (deviceId: string) => commands.find((x) => x.deviceId === deviceId)!.id;

    await da.waitForCommand((x) => x.commandId === idOf(a.id));
    await db.waitForCommand((x) => x.commandId === idOf(b.id));
    await statusBecomes(idOf(a.id), 'delivered');
    expect((await command(idOf(c.id))).status).toBe('queued');

    const dc = await connect(c.id, c.secret);
    const late = await dc.waitForCommand((x) => x.commandId === idOf(c.id));
    expect(late).toMatchObject({ kind: 'rinse', params: { cycles: 2 } });
    await statusBecomes(idOf(c.id), 'delivered');

    for (const d of [da, db, dc]) await d.result(idOf(d.id), 'succeeded');
    await eventually(async () => {
      const view = (await h.api('GET', `/api/v1/command-batches/${batch.id}`)).body;
      return view.counts.succeeded === 3;
    });
  }, 30_000);

  it('expires a command whose time-to-live ran out before delivery and never sends it', async () => {
    const { id, secret } = await newDevice();
    const { commands } = await create([id], 'lock', { ttlMs: 60_000, params: { reason: 'cleaning' } });
    const commandId = commands[0]!.id;
    h.clock.advance(61_000);
    await h.ops.sweep();
    expect((await command(commandId)).status).toBe('expired');

    const device = await connect(id, secret);
    await h.channel.dispatcher.sweep();
    // A command queued after it proves the device is served; the expired one must not precede it.
    const fresh = (await create([id])).commands[0]!.id;
    await device.waitForCommand((c) => c.commandId === fresh);
    expect(device.commands.map((c) => c.commandId)).toEqual([fresh]);
    expect((await command(commandId)).status).toBe('expired');
  }, 30_000);

  it('sends unfinished commands again when the machine reconnects; one result finishes it', async () => {
    const { id, secret } = await newDevice();
    const first = await connect(id, secret);
    const commandId = (await create([id], 'restart', { params: { target: 'agent' } })).commands[0]!.id;
    await first.waitForCommand((c) => c.commandId === commandId);
    await first.progress(commandId, 'deferred');
    await statusBecomes(commandId, 'deferred');
    await first.close();

    const again = await connect(id, secret);
    const repeat = await again.waitForCommand((c) => c.commandId === commandId);
    expect(repeat.idempotencyKey).toBe(first.commands[0]!.idempotencyKey);
    await again.result(commandId, 'succeeded');
    await statusBecomes(commandId, 'succeeded');
  }, 30_000);

  it('delivers a signed recipe bundle assigned to a machine (install_recipes)', async () => {
    const { id, secret } = await newDevice();
    const device = await connect(id, secret);
    const set = await h.api('POST', '/api/v1/recipe-sets', { merchantId: h.merchantId, ...sampleMenu() });
    expect(set.status, JSON.stringify(set.body)).toBe(201);
    const assigned = await h.api('POST', `/api/v1/recipe-sets/${set.body.id}/assign`, {
      target: { deviceId: id },
    });
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(201);
    // Assignments publish no live event; the dispatcher's catch-up pass finds the queued command.
    await h.channel.dispatcher.sweep();
    const install = await device.waitForCommand((c) => c.kind === 'install_recipes');
    if (install.kind !== 'install_recipes') throw new Error('unreachable');
    const header = JSON.parse(
      Buffer.from(install.params.bundle.manifest.split('.')[0]!, 'base64url').toString(),
    );
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'crema-recipes+jws' });
    expect(readBundleManifest(install.params.bundle).sha256).toBe(set.body.sha256);
  }, 30_000);
});
