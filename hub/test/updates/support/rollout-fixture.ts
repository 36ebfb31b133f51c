import { randomBytes } from 'node:crypto';
import {
  type ArtifactManifest,
  MANIFEST_TYP,
  makeEnvelope,
  manifestBytes,
  type RecordEnvelope,
  type UpdateProgress,
} from '@crema/protocol';
import pino from 'pino';
import { claimMessageIds, storeRecords } from '../../../src/ingest/store';
import { SigningKey } from '../../../src/operations/recipes/signing-key';
import { RolloutEngine } from '../../../src/updates/rollouts/engine';
import type { TestApi } from '../../support/api';

const uid = () => randomBytes(5).toString('hex');
const key = SigningKey.generate();

/** An artifact row as the upload route stores it, with a manifest signed by a hub key. */
export async function addArtifact(
  t: TestApi,
  over: Partial<Pick<ArtifactManifest, 'kind' | 'version' | 'models' | 'minVersion'>> = {},
): Promise<string> {
  const sha256 = randomBytes(32).toString('hex');
  const m: ArtifactManifest = {
    kind: over.kind ?? 'brewer-firmware',
    version: over.version ?? '1.5.0',
    models: over.models ?? ['CM-1'],
    size: 4096,
    sha256,
    minVersion: over.minVersion ?? '1.0.0',
    notes: 'test image',
    createdAt: t.clock.now(),
  };
  await t.deps.db.kysely
    .insertInto('artifacts')
    .values({
      sha256,
      kind: m.kind,
      version: m.version,
      models: JSON.stringify(m.models),
      size: m.size,
      min_version: m.minVersion,
      notes: m.notes,
      manifest_jws: await key.signJws(manifestBytes(m), MANIFEST_TYP),
      signed_kid: 'test',
      uploaded_by: t.fx.superadmin.id,
      created_at: t.clock.now(),
    })
    .execute();
  return sha256;
}

/** Machines of a merchant as their birth reported them (model, firmware and agent versions). */
export async function addFleet(
  t: TestApi,
  merchantId: string,
  n: number,
  over: { model?: string; firmwareVersion?: string; locationId?: string } = {},
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const model = over.model ?? 'CM-1';
    const { id } = await t.addDevice(merchantId, {
      model,
      ...(over.locationId ? { locationId: over.locationId } : {}),
    });
    await t.deps.db.kysely
      .insertInto('device_state')
      .values({
        device_id: id,
        merchant_id: merchantId,
        model,
        firmware_version: over.firmwareVersion ?? '1.4.2',
        agent_version: '0.9.0',
      })
      .execute();
    ids.push(id);
  }
  return ids.sort();
}

/** Stores records the way the ingest writer does: claim the message ids, write the new ones, one transaction. */
export async function ingest(t: TestApi, deviceId: string, merchantId: string, envelopes: RecordEnvelope[]) {
  await t.deps.db.kysely.transaction().execute(async (trx) => {
    const records = envelopes.map((envelope) => ({ deviceId, merchantId, envelope }));
    const fresh = await claimMessageIds(trx, records, t.clock.now());
    await storeRecords(trx, fresh, t.clock.now());
  });
}

/** One `update_progress` record of a machine (a fresh message id unless given). */
export function progress(
  t: TestApi,
  deviceId: string,
  rolloutId: string,
  stage: UpdateProgress['stage'],
  over: Partial<UpdateProgress> & { id?: string } = {},
): RecordEnvelope {
  const { id, ...body } = over;
  return makeEnvelope('update_progress', { id: id ?? `up-${uid()}`, deviceId, seq: 0, ts: t.clock.now() }, {
    rolloutId,
    kind: 'brewer-firmware',
    version: '1.5.0',
    fromVersion: '1.4.2',
    stage,
    at: t.clock.now(),
    ...(stage === 'failed' || stage === 'rolled_back' ? { reason: 'HEALTH_CHECK_FAILED' as const } : {}),
    ...body,
  } as UpdateProgress) as RecordEnvelope;
}

/** Orders of a machine: `n` orders, `failed` of them failed, the others brewed in `brewMs`. */
export async function addOrders(
  t: TestApi,
  deviceId: string,
  merchantId: string,
  spec: { n: number; failed?: number; refunded?: number; brewMs?: number; at?: number },
) {
  const db = t.deps.db.kysely;
  const base = spec.at ?? t.clock.now();
  for (let i = 0; i < spec.n; i++) {
    const orderId = `o-${uid()}`;
    const at = base + i * 10;
    const status =
      i < (spec.failed ?? 0)
        ? 'failed'
        : i < (spec.failed ?? 0) + (spec.refunded ?? 0)
          ? 'refunded'
          : 'completed';
    const common = { device_id: deviceId, merchant_id: merchantId, order_id: orderId, recipe_id: 'espresso' };
    const money = { size: 'M', amount: 300, currency: 'EUR', method: 'card', code: null };
    await db
      .insertInto('orders')
      .values({ ...common, ...money, status, created_at: at, updated_at: at + (spec.brewMs ?? 30_000) })
      .execute();
    if (status !== 'completed') continue;
    const events = [
      { event: 'brewing', at },
      { event: 'completed', at: at + (spec.brewMs ?? 30_000) },
    ];
    for (const e of events)
      await db
        .insertInto('order_events')
        .values({ ...common, ...money, message_id: `m-${uid()}`, event: e.event, reason: null, at: e.at })
        .execute();
  }
}

export function engineFor(t: TestApi): RolloutEngine {
  const ops = t.deps.operations;
  return new RolloutEngine({
    ctx: ops.ctx,
    bus: ops.bus,
    clock: t.clock,
    logger: pino({ level: process.env.CREMA_TEST_LOG ?? 'silent' }),
  });
}

/** Upgrade commands the hub queued for these machines. */
export async function upgradeCommands(t: TestApi, deviceIds?: readonly string[]) {
  let q = t.deps.db.kysely
    .selectFrom('commands')
    .selectAll()
    .where('kind', 'in', ['upgrade_firmware', 'upgrade_agent']);
  if (deviceIds) q = q.where('device_id', 'in', deviceIds.length ? [...deviceIds] : ['-']);
  return q.orderBy('device_id').execute();
}
