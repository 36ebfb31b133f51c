import type { Selectable } from 'kysely';
import type { AuditLog } from '../../audit/log';
import { CommandService } from '../../commands/service';
import type { RolloutsTable } from '../../db/tables/updates';
import { ALL_MERCHANTS, type OpsContext } from '../../operations/context';
import type { OpsEvent } from '../../operations/events/bus';
import { inTx } from '../../operations/shared/tx';
import { enqueueWebhooks } from '../../webhooks/service';
import { DEVICE_FAILED, type FailureThreshold, type RolloutDeviceStatus } from './schema';
import { checkSignals, type Halt } from './signals';
import { commandKindOf, countsOf, settingsOf } from './views';
import { commandTtlMs, inWindow } from './window';
import { withdrawQueued } from './withdraw';

export type PendingEvent = Omit<OpsEvent, 'at'>;

/** The hub's own decisions (halts, phase changes) are audited without a user. */
const SYSTEM = { actor: null, ip: null } as const;

/** Sends of a command that expired unread before the machine is given up as unreachable. */
export const MAX_ATTEMPTS = 3;
const OPEN: RolloutDeviceStatus[] = ['pending', 'sent', 'installing'];

/** Stops a running campaign with its reason; withdraws what the hub still holds. Guarded: one process wins. */
async function halt(
  ctx: OpsContext,
  audit: AuditLog,
  r: Selectable<RolloutsTable>,
  h: Halt,
  events: PendingEvent[],
) {
  const now = ctx.now();
  const event: PendingEvent = {
    type: 'rollout.halted',
    merchantId: r.merchant_id,
    data: { id: r.id, name: r.name, code: h.code, reason: h.reason, phase: r.phase_index },
  };
  const halted = await inTx(ctx.db, async (tx) => {
    const res = await tx
      .updateTable('rollouts')
      .set({ status: 'halted', halt_code: h.code, halt_reason: h.reason, updated_at: now })
      .where('id', '=', r.id)
      .where('status', '=', 'running')
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) return false;
    await withdrawQueued(tx, r.id, 'pending', now);
    await audit.record(tx, {
      ...SYSTEM,
      action: 'rollout.halt',
      targetType: 'rollout',
      targetId: r.id,
      merchantId: r.merchant_id,
      before: { status: 'running', phase: r.phase_index },
      after: { status: 'halted', code: h.code, reason: h.reason },
    });
    // The merchant's webhooks hear of it with the halt itself (a platform campaign has no merchant to tell).
    await enqueueWebhooks(tx, ctx, [event]);
    return true;
  });
  if (halted) events.push(event);
}

/** Machines whose command ended without an install report: failed at the device, or never read in time. */
async function reconcileCommands(ctx: OpsContext, r: Selectable<RolloutsTable>, events: PendingEvent[]) {
  const rows = await ctx.db
    .selectFrom('rollout_devices as rd')
    .innerJoin('commands as c', 'c.id', 'rd.command_id')
    .select([
      'rd.device_id',
      'rd.merchant_id',
      'rd.status',
      'rd.attempts',
      'rd.command_id',
      'c.status as command_status',
      'c.result_code',
      'c.result_message',
    ])
    .where('rd.rollout_id', '=', r.id)
    .where('rd.status', 'in', ['sent', 'installing'])
    .where('c.status', 'in', ['failed', 'expired', 'cancelled'])
    .execute();
  const now = ctx.now();
  for (const row of rows) {
    let set: { status: RolloutDeviceStatus; reason: string | null; detail: string | null };
    if (row.command_status === 'failed')
      set = { status: 'failed', reason: row.result_code ?? 'COMMAND_FAILED', detail: row.result_message };
    else if (row.status === 'installing')
      continue; // it reports its own end
    else if (Number(row.attempts) < MAX_ATTEMPTS) set = { status: 'pending', reason: null, detail: null };
    else
      set = { status: 'failed', reason: 'COMMAND_EXPIRED', detail: `not read after ${row.attempts} sends` };
    const res = await ctx.db
      .updateTable('rollout_devices')
      .set({
        ...set,
        updated_at: now,
        ...(set.status === 'pending' ? { command_id: null } : { finished_at: now }),
      })
      .where('rollout_id', '=', r.id)
      .where('device_id', '=', row.device_id)
      .where('status', '=', row.status)
      .where('command_id', '=', row.command_id)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 1 && set.status === 'failed')
      events.push(deviceEvent(r.id, row.device_id, row.merchant_id, set.status, null, set.reason));
  }
}

export function deviceEvent(
  rolloutId: string,
  deviceId: string,
  merchantId: string,
  status: string,
  stage: string | null,
  reason: string | null,
): PendingEvent {
  return {
    type: 'rollout.device',
    merchantId,
    deviceId,
    data: { rolloutId, deviceId, status, stage, reason },
  };
}

function failureHalt(failures: number, finished: number, t: FailureThreshold): Halt | null {
  const byCount = t.count !== undefined && failures >= t.count;
  const byShare = t.percent !== undefined && finished > 0 && (100 * failures) / finished >= t.percent;
  if (!byCount && !byShare) return null;
  const limit = [
    t.count === undefined ? '' : `${t.count} machines`,
    t.percent === undefined ? '' : `${t.percent}%`,
  ]
    .filter(Boolean)
    .join(' or ');
  return {
    code: 'ROLLOUT_FAILURE_THRESHOLD',
    reason: `${failures} of ${finished} finished machines failed or rolled back; threshold ${limit}`,
  };
}

/**
 * Sends the campaign's command to machines of the phases started so far that have not had it, inside the
 * maintenance window. The claim (pending → sent) and the commands are one transaction, and the transaction
 * first touches the campaign row, so two hub processes never send the same machine its command twice.
 */
async function dispatch(
  ctx: OpsContext,
  r: Selectable<RolloutsTable>,
  batch: number,
  events: PendingEvent[],
): Promise<number> {
  const { window } = settingsOf(r);
  const now = ctx.now();
  if (!inWindow(window, now)) return 0;
  const pending = await ctx.db
    .selectFrom('rollout_devices as rd')
    .innerJoin('devices as d', 'd.id', 'rd.device_id')
    .select(['rd.device_id', 'rd.merchant_id', 'd.revoked_at'])
    .where('rd.rollout_id', '=', r.id)
    .where('rd.status', '=', 'pending')
    .where('rd.phase', '<=', r.phase_index)
    .orderBy('rd.phase')
    .orderBy('rd.device_id')
    .limit(batch)
    .execute();
  if (pending.length === 0) return 0;
  const artifact = await ctx.db
    .selectFrom('artifacts')
    .select('manifest_jws')
    .where('sha256', '=', r.artifact_sha256)
    .executeTakeFirstOrThrow();
  const sent = await inTx(ctx.db, async (tx) => {
    const still = await tx
      .updateTable('rollouts')
      .set({ updated_at: now })
      .where('id', '=', r.id)
      .where('status', '=', 'running')
      .where('phase_index', '=', r.phase_index)
      .executeTakeFirst();
    if (Number(still.numUpdatedRows) !== 1) return [];
    const claimed: { id: string; merchantId: string }[] = [];
    for (const p of pending) {
      const revoked = p.revoked_at !== null;
      const res = await tx
        .updateTable('rollout_devices')
        .set((eb) =>
          revoked
            ? { status: 'failed', reason: 'DEVICE_REVOKED', finished_at: now, updated_at: now }
            : { status: 'sent', sent_at: now, updated_at: now, attempts: eb('attempts', '+', 1) },
        )
        .where('rollout_id', '=', r.id)
        .where('device_id', '=', p.device_id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 1 && !revoked)
        claimed.push({ id: p.device_id, merchantId: p.merchant_id });
    }
    if (claimed.length === 0) return [];
    const { commands } = await new CommandService({ ...ctx, db: tx }).create(
      ALL_MERCHANTS,
      { userId: r.created_by },
      {
        kind: commandKindOf(r.kind),
        params: { rolloutId: r.id, manifest: artifact.manifest_jws },
        ttlMs: commandTtlMs(window, now),
        target: { deviceIds: claimed.map((c) => c.id) },
      },
    );
    for (const c of commands)
      await tx
        .updateTable('rollout_devices')
        .set({ command_id: c.id })
        .where('rollout_id', '=', r.id)
        .where('device_id', '=', c.deviceId)
        .execute();
    return commands;
  });
  for (const c of sent) {
    events.push({
      type: 'command.queued',
      merchantId: c.merchantId,
      deviceId: c.deviceId,
      data: { id: c.id, kind: c.kind, batchId: c.batchId },
    });
    events.push(deviceEvent(r.id, c.deviceId, c.merchantId, 'sent', null, null));
  }
  return sent.length;
}

/**
 * One step of one running campaign: settle commands that ended unreported, halt past the failure threshold,
 * send the current phase its commands, and once every machine of the phase is done, soak (watching the
 * business signals) and then start the next phase or complete.
 */
export async function advanceRollout(
  ctx: OpsContext,
  r: Selectable<RolloutsTable>,
  options: { batch: number; audit: AuditLog },
): Promise<PendingEvent[]> {
  const { audit } = options;
  const events: PendingEvent[] = [];
  const s = settingsOf(r);
  await reconcileCommands(ctx, r, events);

  const since = Number(r.resumed_at ?? 0);
  const judged = await ctx.db
    .selectFrom('rollout_devices')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('rollout_id', '=', r.id)
    .where('status', 'in', ['succeeded', ...DEVICE_FAILED])
    .where('finished_at', '>', since)
    .groupBy('status')
    .execute();
  const failures = judged.filter((j) => j.status !== 'succeeded').reduce((a, j) => a + Number(j.n), 0);
  const finished = judged.reduce((a, j) => a + Number(j.n), 0);
  const tooMany = failureHalt(failures, finished, s.failureThreshold);
  if (tooMany) {
    await halt(ctx, audit, r, tooMany, events);
    return events;
  }

  const counts = (await countsOf(ctx, r.id)).filter((c) => c.phase !== null && c.phase <= r.phase_index);
  if (counts.some((c) => OPEN.includes(c.status))) {
    await dispatch(ctx, r, options.batch, events);
    return events;
  }

  const now = ctx.now();
  let soakFrom = r.soak_started_at === null ? null : Number(r.soak_started_at);
  if (soakFrom === null) {
    const res = await ctx.db
      .updateTable('rollouts')
      .set({ soak_started_at: now, updated_at: now })
      .where('id', '=', r.id)
      .where('status', '=', 'running')
      .where('phase_index', '=', r.phase_index)
      .where('soak_started_at', 'is', null)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) return events;
    soakFrom = now;
    events.push({
      type: 'rollout.soaking',
      merchantId: r.merchant_id,
      data: { id: r.id, phase: r.phase_index, soakMs: s.phases[r.phase_index]?.soakMs ?? 0 },
    });
  }
  // An operator who resumed after a signal halt in this soak has judged the signals of this phase.
  if (!(r.resumed_at !== null && Number(r.resumed_at) >= soakFrom)) {
    const signal = await checkSignals(ctx, r, s.signals);
    if (signal) {
      await halt(ctx, audit, r, signal, events);
      return events;
    }
  }
  if (now - soakFrom < (s.phases[r.phase_index]?.soakMs ?? 0)) return events;

  const last = r.phase_index >= s.phases.length - 1;
  const moved = await inTx(ctx.db, async (tx) => {
    const res = await tx
      .updateTable('rollouts')
      .set(
        last
          ? { status: 'completed', finished_at: now, updated_at: now }
          : { phase_index: r.phase_index + 1, phase_started_at: now, soak_started_at: null, updated_at: now },
      )
      .where('id', '=', r.id)
      .where('status', '=', 'running')
      .where('phase_index', '=', r.phase_index)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) return false;
    await audit.record(tx, {
      ...SYSTEM,
      action: last ? 'rollout.complete' : 'rollout.phase_start',
      targetType: 'rollout',
      targetId: r.id,
      merchantId: r.merchant_id,
      before: { phase: r.phase_index },
      after: last ? { status: 'completed' } : { phase: r.phase_index + 1 },
    });
    return true;
  });
  if (!moved) return events;
  events.push(
    last
      ? { type: 'rollout.completed', merchantId: r.merchant_id, data: { id: r.id } }
      : {
          type: 'rollout.phase_started',
          merchantId: r.merchant_id,
          data: { id: r.id, phase: r.phase_index + 1 },
        },
  );
  if (!last) {
    const next = { ...r, phase_index: r.phase_index + 1, phase_started_at: now, soak_started_at: null };
    await dispatch(ctx, next, options.batch, events);
  }
  return events;
}
