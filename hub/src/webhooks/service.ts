import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/database';
import type { WebhookDeliveriesTable, WebhookSubscriptionsTable } from '../db/tables/webhooks';
import { HubError } from '../errors';
import type { Actor, OpsContext, Page, PageQuery, Scope } from '../operations/context';
import { pageBounds } from '../operations/context';
import type { OpsEvent } from '../operations/events/bus';
import {
  type DeliveryStatus,
  type DeliveryView,
  isWebhookEvent,
  type SubscriptionView,
  type WebhookEvent,
  type WebhookPayload,
} from './model';
import { newWebhookSecret } from './signature';
import { checkWebhookUrl } from './target';

/** Subscriptions per merchant: enough for every integration, few enough that a fan-out stays cheap. */
export const MAX_SUBSCRIPTIONS = 100;

const toSubscriptionView = (r: Selectable<WebhookSubscriptionsTable>): SubscriptionView => ({
  id: r.id,
  merchantId: r.merchant_id,
  url: r.url,
  events: JSON.parse(r.events) as WebhookEvent[],
  active: Number(r.active) === 1,
  createdBy: r.created_by,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

const toDeliveryView = (r: Selectable<WebhookDeliveriesTable>): DeliveryView => ({
  id: r.id,
  subscriptionId: r.subscription_id,
  eventType: r.event_type,
  status: r.status as DeliveryStatus,
  attempts: Number(r.attempts),
  nextAttemptAt: r.status === 'pending' ? Number(r.next_attempt_at) : null,
  lastStatus: r.last_status,
  lastError: r.last_error,
  createdAt: Number(r.created_at),
  deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at),
});

/** A merchant's webhook subscriptions and their delivery history; every read and write is tenant-scoped. */
export class WebhookService {
  constructor(private readonly ctx: OpsContext) {}

  async list(scope: Scope, page: PageQuery): Promise<Page<SubscriptionView>> {
    const { limit, offset } = pageBounds(page);
    let q = this.ctx.db.selectFrom('webhook_subscriptions');
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    const [rows, count] = await Promise.all([
      q.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toSubscriptionView), total: Number(count.n), limit, offset };
  }

  async get(scope: Scope, id: string): Promise<SubscriptionView> {
    return toSubscriptionView(await this.row(scope, id));
  }

  /** Creates a subscription; the answer carries its secret, which is never shown again. */
  async create(
    scope: Scope,
    actor: Actor,
    input: { merchantId?: string; url: string; events: WebhookEvent[] },
  ): Promise<{ subscription: SubscriptionView; secret: string }> {
    if (
      scope.merchantId !== undefined &&
      input.merchantId !== undefined &&
      input.merchantId !== scope.merchantId
    )
      throw new HubError('NOT_FOUND', 'merchant not found');
    const merchantId = scope.merchantId ?? input.merchantId;
    if (merchantId === undefined)
      throw new HubError('VALIDATION_FAILED', 'merchantId is required for a platform subscription');
    checkWebhookUrl(input.url);
    const merchant = await this.ctx.db
      .selectFrom('merchants')
      .select('id')
      .where('id', '=', merchantId)
      .executeTakeFirst();
    if (!merchant) throw new HubError('NOT_FOUND', 'merchant not found');
    const count = await this.ctx.db
      .selectFrom('webhook_subscriptions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('merchant_id', '=', merchantId)
      .executeTakeFirstOrThrow();
    if (Number(count.n) >= MAX_SUBSCRIPTIONS)
      throw new HubError('CONFLICT', `a merchant has at most ${MAX_SUBSCRIPTIONS} webhook subscriptions`);
    const now = this.ctx.now();
    const secret = newWebhookSecret();
    const row = {
      id: this.ctx.newId(),
      merchant_id: merchantId,
      url: input.url,
      events: JSON.stringify([...new Set(input.events)].sort()),
      secret,
      active: 1,
      created_by: actor.userId,
      created_at: now,
      updated_at: now,
    };
    await this.ctx.db.insertInto('webhook_subscriptions').values(row).execute();
    return { subscription: toSubscriptionView(row), secret };
  }

  async update(
    scope: Scope,
    id: string,
    change: { url?: string; events?: WebhookEvent[]; active?: boolean },
  ): Promise<{ before: SubscriptionView; after: SubscriptionView }> {
    const row = await this.row(scope, id);
    if (change.url !== undefined) checkWebhookUrl(change.url);
    const next = {
      ...row,
      url: change.url ?? row.url,
      events: change.events ? JSON.stringify([...new Set(change.events)].sort()) : row.events,
      active: change.active === undefined ? row.active : change.active ? 1 : 0,
      updated_at: this.ctx.now(),
    };
    await this.ctx.db
      .updateTable('webhook_subscriptions')
      .set({ url: next.url, events: next.events, active: next.active, updated_at: next.updated_at })
      .where('id', '=', id)
      .execute();
    return { before: toSubscriptionView(row), after: toSubscriptionView(next) };
  }

  /** A new secret; deliveries made from now on are signed with it. */
  async rotateSecret(scope: Scope, id: string): Promise<{ subscription: SubscriptionView; secret: string }> {
    const row = await this.row(scope, id);
    const secret = newWebhookSecret();
    const updatedAt = this.ctx.now();
    await this.ctx.db
      .updateTable('webhook_subscriptions')
      .set({ secret, updated_at: updatedAt })
      .where('id', '=', id)
      .execute();
    return { subscription: toSubscriptionView({ ...row, updated_at: updatedAt }), secret };
  }

  async remove(scope: Scope, id: string): Promise<SubscriptionView> {
    const row = await this.row(scope, id);
    await this.ctx.db.deleteFrom('webhook_deliveries').where('subscription_id', '=', id).execute();
    await this.ctx.db.deleteFrom('webhook_subscriptions').where('id', '=', id).execute();
    return toSubscriptionView(row);
  }

  async deliveries(
    scope: Scope,
    id: string,
    filter: PageQuery & { status?: DeliveryStatus },
  ): Promise<Page<DeliveryView>> {
    await this.row(scope, id);
    const { limit, offset } = pageBounds(filter);
    let q = this.ctx.db.selectFrom('webhook_deliveries').where('subscription_id', '=', id);
    if (filter.status) q = q.where('status', '=', filter.status);
    const [rows, count] = await Promise.all([
      q.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toDeliveryView), total: Number(count.n), limit, offset };
  }

  private async row(scope: Scope, id: string) {
    let q = this.ctx.db.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id);
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    const row = await q.executeTakeFirst();
    if (!row) throw new HubError('NOT_FOUND', 'webhook subscription not found');
    return row;
  }
}

/**
 * Queues one delivery per active subscription that wants each event, in the caller's transaction when it has
 * one (an operator action and its webhook commit together). Events of other kinds, and events without a
 * merchant, are ignored. Returns the number queued.
 */
export async function enqueueWebhooks(
  db: Kysely<Database>,
  ctx: Pick<OpsContext, 'now' | 'newId'>,
  events: readonly Omit<OpsEvent, 'at'>[],
): Promise<number> {
  const wanted = events.filter((e) => isWebhookEvent(e.type) && e.merchantId !== null);
  if (wanted.length === 0) return 0;
  const merchants = [...new Set(wanted.map((e) => e.merchantId as string))];
  const subs = await db
    .selectFrom('webhook_subscriptions')
    .select(['id', 'merchant_id', 'events'])
    .where('merchant_id', 'in', merchants)
    .where('active', '=', 1)
    .execute();
  if (subs.length === 0) return 0;
  const now = ctx.now();
  const rows = [];
  for (const e of wanted) {
    const payload: WebhookPayload = {
      id: ctx.newId(),
      type: e.type as WebhookEvent,
      merchantId: e.merchantId as string,
      ...(e.deviceId !== undefined ? { deviceId: e.deviceId } : {}),
      occurredAt: now,
      data: e.data,
    };
    const body = JSON.stringify(payload);
    for (const s of subs) {
      if (s.merchant_id !== e.merchantId || !(JSON.parse(s.events) as string[]).includes(e.type)) continue;
      rows.push({
        id: ctx.newId(),
        subscription_id: s.id,
        merchant_id: s.merchant_id,
        event_type: e.type,
        payload: body,
        status: 'pending',
        attempts: 0,
        next_attempt_at: now,
        last_status: null,
        last_error: null,
        created_at: now,
        delivered_at: null,
      });
    }
  }
  if (rows.length > 0) await db.insertInto('webhook_deliveries').values(rows).execute();
  return rows.length;
}
