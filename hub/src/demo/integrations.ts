import { ulid } from '@crema/protocol';
import type { Insertable } from 'kysely';
import type { Database } from '../db/database';
import { newWebhookSecret } from '../webhooks/signature';
import { type DemoWorld, insertChunks } from './world';

const MINUTE = 60_000;

/**
 * What integrations look like after a few days: per merchant one webhook subscription (paused, so a demo hub
 * sends nothing to its made-up receiver) with a delivery history of successes, a retried one and one given up,
 * and every demo user's login history, including failed attempts and a throttled burst.
 */
export async function seedIntegrations(world: DemoWorld): Promise<{ webhooks: number; logins: number }> {
  const { now, rng } = world;
  const subscriptions: Insertable<Database['webhook_subscriptions']>[] = [];
  const deliveries: Insertable<Database['webhook_deliveries']>[] = [];
  const logins: Insertable<Database['login_events']>[] = [];
  for (const m of world.merchants) {
    const subscription = `${m.id}-webhook1`;
    subscriptions.push({
      id: subscription,
      merchant_id: m.id,
      url: `https://hooks.example.com/crema/${m.id}`,
      events: JSON.stringify(['alarm.raised', 'alarm.cleared', 'order.refunded']),
      secret: newWebhookSecret(),
      active: 0,
      created_by: m.staff.merchant_admin.userId,
      created_at: now - 10 * 86_400_000,
      updated_at: now - 86_400_000,
    });
    for (let i = 0; i < 8; i++) {
      const at = now - (i + 1) * 7 * 60 * MINUTE + rng.int(0, 30) * MINUTE;
      const type = i % 3 === 2 ? 'order.refunded' : i % 2 === 0 ? 'alarm.raised' : 'alarm.cleared';
      const deviceId = m.devices[i % Math.max(1, m.devices.length)];
      const id = ulid();
      const payload = { id, type, merchantId: m.id, deviceId, occurredAt: at, data: {} };
      const failed = i === 5;
      const retried = i === 2;
      deliveries.push({
        id,
        subscription_id: subscription,
        merchant_id: m.id,
        event_type: type,
        payload: JSON.stringify(payload),
        status: failed ? 'failed' : 'delivered',
        attempts: failed ? 8 : retried ? 3 : 1,
        next_attempt_at: at,
        last_status: failed ? 503 : 200,
        last_error: failed ? 'HTTP 503 from the receiver' : null,
        created_at: at,
        delivered_at: failed ? null : at + (retried ? 3 * MINUTE : 400),
      });
    }
    for (const principal of Object.values(m.staff)) {
      const email = `${principal.role.replace('_', '.')}@${m.id}.demo`;
      const ip = `198.51.100.${rng.int(2, 250)}`;
      for (let d = 0; d < 5; d++) {
        const at = now - d * 86_400_000 - rng.int(1, 600) * MINUTE;
        if (d === 2) {
          logins.push(row(ulid(), principal.userId, m.id, email, ip, 'invalid_credentials', at - MINUTE));
        }
        logins.push(row(ulid(), principal.userId, m.id, email, ip, 'success', at));
      }
    }
    // Someone guessing an admin's password from elsewhere, until the throttle stops them.
    const admin = `merchant.admin@${m.id}.demo`;
    const start = now - 3 * 86_400_000;
    for (let i = 0; i < 6; i++) {
      const result = i < 5 ? 'invalid_credentials' : 'throttled';
      logins.push(row(ulid(), m.staff.merchant_admin.userId, m.id, admin, '203.0.113.66', result, start + i));
    }
  }
  await insertChunks(world.ctx, 'webhook_subscriptions', subscriptions);
  await insertChunks(world.ctx, 'webhook_deliveries', deliveries);
  await insertChunks(world.ctx, 'login_events', logins);
  return { webhooks: subscriptions.length, logins: logins.length };
}

function row(
  id: string,
  userId: string,
  merchantId: string,
  email: string,
  ip: string,
  result: string,
  at: number,
): Insertable<Database['login_events']> {
  return { id, user_id: userId, merchant_id: merchantId, email, ip, result, at };
}
