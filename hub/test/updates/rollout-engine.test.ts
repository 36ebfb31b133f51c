import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALL_MERCHANTS } from '../../src/operations/context';
import type { OpsEvent } from '../../src/operations/events/bus';
import type { RolloutEngine } from '../../src/updates/rollouts/engine';
import { RolloutService } from '../../src/updates/rollouts/service';
import { RolloutArtifactUsage } from '../../src/updates/rollouts/usage';
import { WebhookService } from '../../src/webhooks/service';
import { createTestApi, type TestApi } from '../support/api';
import { BACKENDS } from '../support/db';
import {
  addArtifact,
  addFleet,
  addOrders,
  engineFor,
  ingest,
  progress,
  upgradeCommands,
} from './support/rollout-fixture';

const HOUR = 3600_000;

describe.each(BACKENDS)('rollout engine on %s', (backend) => {
  let t: TestApi;
  let engine: RolloutEngine;
  let service: RolloutService;
  let events: OpsEvent[];
  let off: () => void;
  beforeEach(async () => {
    t = await createTestApi(backend);
    engine = engineFor(t);
    service = new RolloutService(t.deps.operations.ctx);
    events = [];
    off = t.deps.operations.bus.subscribe((e) => events.push(e));
  });
  afterEach(async () => {
    off();
    await t.cleanup();
  });

  const admin = () => ({ userId: t.fx.usersA.merchant_admin.id });
  const scopeA = () => ({ merchantId: t.fx.merchantA });
  const m = () => t.fx.merchantA;

  async function succeed(ids: readonly string[], rolloutId: string) {
    for (const id of ids) await ingest(t, id, m(), [progress(t, id, rolloutId, 'succeeded')]);
  }
  const sentTo = async (ids: readonly string[]) => (await upgradeCommands(t, ids)).map((c) => c.device_id);

  it('sends the canary first and starts each next phase only after every machine finished and the soak passed', async () => {
    const fleet = await addFleet(t, m(), 10);
    const sha = await addArtifact(t);
    const r = await service.create(scopeA(), admin(), {
      name: 'boiler fix',
      artifact: sha,
      target: { merchantId: m() },
      phases: [
        { count: 1, soakMs: HOUR },
        { percent: 50, soakMs: HOUR },
        { percent: 100, soakMs: 0 },
      ],
    });
    expect(r.phaseSummaries.map((p) => p.devices)).toEqual([1, 4, 5]);
    await engine.tick();
    expect(await sentTo(fleet)).toEqual([fleet[0]]);
    const [cmd] = await upgradeCommands(t);
    expect(cmd?.kind).toBe('upgrade_firmware');
    const params = JSON.parse(cmd?.params ?? '{}');
    expect(params.rolloutId).toBe(r.id);
    expect(params.manifest.split('.')).toHaveLength(3);

    await ingest(t, fleet[0] as string, m(), [
      progress(t, fleet[0] as string, r.id, 'downloading', { pct: 40 }),
    ]);
    await engine.tick();
    expect((await service.get(scopeA(), r.id)).phaseSummaries[0]?.state).toBe('installing');
    await succeed([fleet[0] as string], r.id);
    await engine.tick();
    const soaking = await service.get(scopeA(), r.id);
    expect(soaking.phaseSummaries[0]?.state).toBe('soaking');
    expect(events.some((e) => e.type === 'rollout.soaking')).toBe(true);

    t.clock.advance(HOUR - 1000);
    await engine.tick();
    expect(await sentTo(fleet)).toHaveLength(1);
    t.clock.advance(1000);
    await engine.tick();
    expect(await sentTo(fleet)).toEqual(fleet.slice(0, 5));
    expect((await service.get(scopeA(), r.id)).phaseIndex).toBe(1);

    // Phase 1 not finished: however long it takes, phase 2 waits.
    await succeed(fleet.slice(1, 4), r.id);
    t.clock.advance(5 * HOUR);
    await engine.tick();
    expect(await sentTo(fleet)).toHaveLength(5);
    await succeed(fleet.slice(4, 5), r.id);
    await engine.tick();
    t.clock.advance(HOUR);
    await engine.tick();
    expect(await sentTo(fleet)).toEqual(fleet);
    await succeed(fleet.slice(5), r.id);
    await engine.tick();
    await engine.tick();
    const done = await service.get(scopeA(), r.id);
    expect(done.status).toBe('completed');
    expect(done.counts).toEqual({ succeeded: 10 });
    // Each machine's fleet state shows the version it runs now, before any new birth.
    const versions = await t.deps.db.kysely
      .selectFrom('device_state')
      .select('firmware_version')
      .where('device_id', 'in', fleet)
      .execute();
    expect(new Set(versions.map((v) => v.firmware_version))).toEqual(new Set([done.artifact.version]));
    expect(events.filter((e) => e.type === 'rollout.phase_started').map((e) => e.data.phase)).toEqual([1, 2]);
    const audited = await t.deps.db.kysely
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', r.id)
      .orderBy('id')
      .execute();
    expect(audited.map((a) => a.action)).toEqual([
      'rollout.phase_start',
      'rollout.phase_start',
      'rollout.complete',
    ]);
  });

  it('halts when the canary rolls back past the threshold, and no later machine is ever sent the update', async () => {
    const fleet = await addFleet(t, m(), 20);
    const sha = await addArtifact(t);
    const hook = await new WebhookService(t.deps.operations.ctx).create(scopeA(), admin(), {
      url: 'https://hooks.example.com/rollouts',
      events: ['rollout.halted'],
    });
    const r = await service.create(scopeA(), admin(), {
      name: 'bad image',
      artifact: sha,
      target: { deviceIds: fleet },
      phases: [
        { count: 2, soakMs: 0 },
        { percent: 100, soakMs: 0 },
      ],
      failureThreshold: { count: 1 },
    });
    await engine.tick();
    expect(await sentTo(fleet)).toEqual(fleet.slice(0, 2));
    const canary = fleet[0] as string;
    await ingest(t, canary, m(), [
      progress(t, canary, r.id, 'rolled_back', { reason: 'HEALTH_CHECK_FAILED' }),
    ]);
    await engine.tick();
    const halted = await service.get(scopeA(), r.id);
    expect(halted.status).toBe('halted');
    expect(halted.halt?.code).toBe('ROLLOUT_FAILURE_THRESHOLD');
    expect(halted.halt?.reason).toContain('1 of 1 finished machines failed or rolled back');
    expect(events.find((e) => e.type === 'rollout.halted')?.data.code).toBe('ROLLOUT_FAILURE_THRESHOLD');
    const audited = await t.deps.db.kysely
      .selectFrom('audit_log')
      .select(['action', 'actor_user_id', 'after_json'])
      .where('target_id', '=', r.id)
      .execute();
    expect(audited.map((a) => [a.action, a.actor_user_id])).toEqual([['rollout.halt', null]]);
    expect(JSON.parse(audited[0]?.after_json ?? '{}').code).toBe('ROLLOUT_FAILURE_THRESHOLD');
    // The merchant's webhook is queued with the halt, once.
    const queued = await t.deps.db.kysely
      .selectFrom('webhook_deliveries')
      .select(['event_type', 'payload'])
      .where('subscription_id', '=', hook.subscription.id)
      .execute();
    expect(queued.map((q) => q.event_type)).toEqual(['rollout.halted']);
    expect(JSON.parse(queued[0]?.payload ?? '{}').data).toMatchObject({
      id: r.id,
      code: 'ROLLOUT_FAILURE_THRESHOLD',
    });
    const dev = (await service.devices(scopeA(), r.id, { status: 'rolled_back' })).items;
    expect(dev.map((d) => [d.deviceId, d.reason])).toEqual([[canary, 'HEALTH_CHECK_FAILED']]);

    // The other canary finishes fine; time passes; ticks run: nothing more is sent.
    await succeed([fleet[1] as string], r.id);
    for (let i = 0; i < 3; i++) {
      t.clock.advance(HOUR);
      await engine.tick();
    }
    expect(await sentTo(fleet)).toEqual(fleet.slice(0, 2));
    expect(
      (await service.devices(scopeA(), r.id, { phase: 1 })).items.every((d) => d.status === 'pending'),
    ).toBe(true);
  });

  it('halts during the soak when updated machines fail more vends, naming the signal and the figures', async () => {
    const fleet = await addFleet(t, m(), 20);
    const sha = await addArtifact(t);
    const r = await service.create(scopeA(), admin(), {
      name: 'vend regression',
      artifact: sha,
      target: { merchantId: m() },
      phases: [
        { count: 4, soakMs: 6 * HOUR },
        { percent: 100, soakMs: 0 },
      ],
      signals: { minOrders: 20, failedVendRatePts: 10 },
    });
    await engine.tick();
    await succeed(fleet.slice(0, 4), r.id);
    await engine.tick();
    expect((await service.get(scopeA(), r.id)).status).toBe('running');
    t.clock.advance(1000);
    // Updated: 4 machines × 10 orders, 3 failed each (30 %). Others: 16 × 5 orders, none failed.
    for (const id of fleet.slice(0, 4)) await addOrders(t, id, m(), { n: 10, failed: 3 });
    for (const id of fleet.slice(4)) await addOrders(t, id, m(), { n: 5 });
    t.clock.advance(HOUR);
    await engine.tick();
    const halted = await service.get(scopeA(), r.id);
    expect(halted.status).toBe('halted');
    expect(halted.halt?.code).toBe('ROLLOUT_SIGNAL_FAILED_VENDS');
    expect(halted.halt?.reason).toBe(
      'failed-vend rate 30.0% on 4 updated machines (40 orders) vs 0.0% on 16 not-yet-updated machines (80 orders): +30.0 points, threshold 10.0',
    );
    t.clock.advance(6 * HOUR);
    await engine.tick();
    expect(await sentTo(fleet)).toHaveLength(4);
  });

  it('halts on a slower median brew time, and lets a healthy soak pass', async () => {
    const fleet = await addFleet(t, m(), 12);
    const sha = await addArtifact(t);
    const spec = {
      artifact: sha,
      target: { merchantId: m() },
      phases: [
        { count: 2, soakMs: HOUR },
        { percent: 100, soakMs: 0 },
      ],
      signals: { minOrders: 10, brewTimePct: 20 },
    };
    const r = await service.create(scopeA(), admin(), { ...spec, name: 'slow brew' });
    await engine.tick();
    await succeed(fleet.slice(0, 2), r.id);
    await engine.tick();
    t.clock.advance(1000);
    for (const id of fleet.slice(0, 2)) await addOrders(t, id, m(), { n: 10, brewMs: 42_000 });
    for (const id of fleet.slice(2)) await addOrders(t, id, m(), { n: 3, brewMs: 30_000 });
    await engine.tick();
    const halted = await service.get(scopeA(), r.id);
    expect(halted.halt?.code).toBe('ROLLOUT_SIGNAL_BREW_TIME');
    expect(halted.halt?.reason).toContain(
      'median brew time 42.0 s on 2 updated machines (20 brews) vs 30.0 s',
    );
    expect(halted.halt?.reason).toContain('+40.0%, threshold 20.0%');

    // An operator judges the halt and resumes: the soak finishes and the next phase starts.
    await service.resume(scopeA(), r.id);
    t.clock.advance(HOUR);
    await engine.tick();
    expect(await sentTo(fleet)).toEqual(fleet);
  });

  it('pause stops sending and withdraws queued commands; resume sends them; cancel ends the campaign', async () => {
    const fleet = await addFleet(t, m(), 6);
    const sha = await addArtifact(t);
    const r = await service.create(scopeA(), admin(), {
      name: 'pausable',
      artifact: sha,
      target: { merchantId: m() },
      phases: [
        { count: 2, soakMs: 0 },
        { percent: 100, soakMs: 0 },
      ],
    });
    await engine.tick();
    const first = await upgradeCommands(t);
    expect(first).toHaveLength(2);
    await expect(service.resume(scopeA(), r.id)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    await service.pause(scopeA(), r.id);
    expect((await upgradeCommands(t)).map((c) => c.status)).toEqual(['cancelled', 'cancelled']);
    await engine.tick();
    expect((await upgradeCommands(t)).filter((c) => c.status === 'queued')).toHaveLength(0);
    expect((await service.get(scopeA(), r.id)).counts).toEqual({ pending: 6 });

    await service.resume(scopeA(), r.id);
    await engine.tick();
    const again = (await upgradeCommands(t)).filter((c) => c.status === 'queued');
    expect(again.map((c) => c.device_id)).toEqual(fleet.slice(0, 2));
    // One machine already has it (delivered): cancel leaves it to finish and cancels everything else.
    await t.deps.db.kysely
      .updateTable('commands')
      .set({ status: 'delivered' })
      .where('id', '=', again[0]?.id ?? '')
      .execute();
    const { after } = await service.cancel(scopeA(), r.id);
    expect(after.status).toBe('cancelled');
    expect(after.counts).toEqual({ sent: 1, cancelled: 5 });
    await succeed([fleet[0] as string], r.id);
    await engine.tick();
    expect((await service.get(scopeA(), r.id)).counts).toEqual({ succeeded: 1, cancelled: 5 });
    await expect(service.pause(scopeA(), r.id)).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
  });

  it('sends a machine its command only inside the maintenance window, valid until the window closes', async () => {
    // The test clock starts at 2026-06-01T00:00Z: 02:00 in Zurich (UTC+2).
    const fleet = await addFleet(t, m(), 2);
    const sha = await addArtifact(t);
    await service.create(scopeA(), admin(), {
      name: 'night window',
      artifact: sha,
      target: { merchantId: m() },
      phases: [{ percent: 100, soakMs: 0 }],
      maintenanceWindow: { timeZone: 'Europe/Zurich', startHour: 3, endHour: 5 },
    });
    await engine.tick();
    expect(await upgradeCommands(t)).toHaveLength(0);
    t.clock.advance(HOUR + 15 * 60_000); // 03:15 local
    await engine.tick();
    const cmds = await upgradeCommands(t);
    expect(cmds.map((c) => c.device_id)).toEqual(fleet);
    expect(Number(cmds[0]?.expires_at)).toBe(Date.UTC(2026, 5, 1, 3)); // 05:00 local
  });

  it('a progress record delivered twice, or re-sent under a new id, counts once', async () => {
    const fleet = await addFleet(t, m(), 4);
    const sha = await addArtifact(t);
    const r = await service.create(scopeA(), admin(), {
      name: 'dupes',
      artifact: sha,
      target: { merchantId: m() },
      phases: [
        { count: 2, soakMs: 0 },
        { percent: 100, soakMs: 0 },
      ],
      failureThreshold: { count: 2 },
    });
    await engine.tick();
    const a = fleet[0] as string;
    const failed = progress(t, a, r.id, 'failed', { reason: 'UPDATE_HASH_MISMATCH' });
    await ingest(t, a, m(), [failed]);
    await ingest(t, a, m(), [failed]);
    // Even stored twice past the ingest dedupe (a replay), the row is one.
    await t.deps.db.kysely.transaction().execute(async (trx) => {
      const { storeRecords } = await import('../../src/ingest/store');
      await storeRecords(trx, [{ deviceId: a, merchantId: m(), envelope: failed }], t.clock.now());
    });
    await ingest(t, a, m(), [progress(t, a, r.id, 'failed', { reason: 'UPDATE_HASH_MISMATCH' })]);
    await engine.tick();
    await engine.tick();
    const rows = await t.deps.db.kysely
      .selectFrom('update_progress')
      .selectAll()
      .where('device_id', '=', a)
      .execute();
    expect(rows).toHaveLength(2);
    expect(rows.every((x) => x.applied === 1)).toBe(true);
    const view = await service.get(scopeA(), r.id);
    expect(view.status).toBe('running');
    expect(view.counts.failed).toBe(1);
    // A stale stage after the end changes nothing.
    await ingest(t, a, m(), [progress(t, a, r.id, 'installing')]);
    await engine.tick();
    expect((await service.devices(scopeA(), r.id, { status: 'failed' })).items[0]?.reason).toBe(
      'UPDATE_HASH_MISMATCH',
    );
  });

  it('lists machines of other models, or already updated, as skipped with the reason', async () => {
    const good = await addFleet(t, m(), 2);
    const other = await addFleet(t, m(), 1, { model: 'CM-9' });
    const current = await addFleet(t, m(), 1, { firmwareVersion: '1.5.0' });
    const sha = await addArtifact(t, { models: ['CM-1'] });
    const r = await service.create(scopeA(), admin(), {
      name: 'models',
      artifact: sha,
      target: { merchantId: m() },
      phases: [{ percent: 100, soakMs: 0 }],
    });
    const skipped = (await service.devices(scopeA(), r.id, { status: 'skipped' })).items;
    expect(skipped.map((d) => [d.deviceId, d.reason]).sort()).toEqual(
      [
        [other[0], 'UPDATE_MODEL_MISMATCH'],
        [current[0], 'UPDATE_DOWNGRADE'],
      ].sort(),
    );
    await engine.tick();
    expect(await sentTo([...good, ...other, ...current])).toEqual(good);
    const none = await addArtifact(t, { models: ['CM-7'], version: '2.0.0' });
    await expect(
      service.create(scopeA(), admin(), {
        name: 'nobody',
        artifact: none,
        target: { merchantId: m() },
        phases: [{ percent: 100, soakMs: 0 }],
      }),
    ).rejects.toMatchObject({ code: 'ROLLOUT_NO_TARGET' });
  });

  it('a command the machine refused fails its machine with the device code; an unread one is sent again', async () => {
    const fleet = await addFleet(t, m(), 2);
    const sha = await addArtifact(t);
    const r = await service.create(scopeA(), admin(), {
      name: 'refused',
      artifact: sha,
      target: { merchantId: m() },
      phases: [{ percent: 100, soakMs: 0 }],
      failureThreshold: { count: 5 },
    });
    await engine.tick();
    const [c1, c2] = await upgradeCommands(t);
    const db = t.deps.db.kysely;
    await db
      .updateTable('commands')
      .set({ status: 'failed', result_code: 'UPDATE_SIGNATURE_INVALID', result_message: 'bad signature' })
      .where('id', '=', c1?.id ?? '')
      .execute();
    await db
      .updateTable('commands')
      .set({ status: 'expired' })
      .where('id', '=', c2?.id ?? '')
      .execute();
    await engine.tick();
    const devices = (await service.devices(scopeA(), r.id, {})).items;
    expect(devices.map((d) => [d.deviceId, d.status, d.reason, d.attempts])).toEqual([
      [fleet[0], 'failed', 'UPDATE_SIGNATURE_INVALID', 1],
      [fleet[1], 'sent', null, 2],
    ]);
    expect((await upgradeCommands(t, [fleet[1] as string])).map((c) => c.status)).toEqual([
      'expired',
      'queued',
    ]);
  });

  it('tells the artifact routes which artifacts are in use and offered to which machine', async () => {
    const fleet = await addFleet(t, m(), 3);
    const sha = await addArtifact(t);
    const usage = new RolloutArtifactUsage(t.deps.operations.ctx);
    expect(await usage.inUse(sha)).toBe(false);
    const r = await service.create(scopeA(), admin(), {
      name: 'usage',
      artifact: sha,
      target: { merchantId: m() },
      phases: [
        { count: 1, soakMs: HOUR },
        { percent: 100, soakMs: 0 },
      ],
    });
    expect(await usage.inUse(sha)).toBe(true);
    expect(await usage.offeredTo(fleet[0] as string, sha)).toBe(false);
    await engine.tick();
    expect(await usage.offeredTo(fleet[0] as string, sha)).toBe(true);
    expect(await usage.offeredTo(fleet[1] as string, sha)).toBe(false);
    await t.deps.db.kysely.updateTable('commands').set({ status: 'delivered' }).execute();
    await new RolloutService(t.deps.operations.ctx).cancel(ALL_MERCHANTS, r.id);
    expect(await usage.inUse(sha)).toBe(false);
    // The canary still holds its command: it may finish its download.
    expect(await usage.offeredTo(fleet[0] as string, sha)).toBe(true);
  });

  it('two engines (two hub processes) working the same campaigns send each machine its command once', async () => {
    const fleet = await addFleet(t, m(), 12);
    const sha = await addArtifact(t);
    const r = await service.create(scopeA(), admin(), {
      name: 'two engines',
      artifact: sha,
      target: { merchantId: m() },
      phases: [
        { count: 2, soakMs: 0 },
        { percent: 100, soakMs: 0 },
      ],
    });
    const other = engineFor(t);
    await Promise.all([engine.tick(), other.tick(), engine.tick(), other.tick()]);
    expect(await sentTo(fleet)).toEqual(fleet.slice(0, 2));
    await succeed(fleet.slice(0, 2), r.id);
    await Promise.all([engine.tick(), other.tick()]);
    await Promise.all([engine.tick(), other.tick()]);
    const commands = await upgradeCommands(t);
    expect(commands.map((c) => c.device_id)).toEqual(fleet);
    expect(events.filter((e) => e.type === 'rollout.phase_started')).toHaveLength(1);
  });
});
