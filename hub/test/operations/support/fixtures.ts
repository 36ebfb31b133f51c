import { FakeClock } from '@crema/protocol';
import type { Db } from '../../../src/db/index';
import { createOpsContext, type OpsContext } from '../../../src/operations/context';

/** Two merchants, each with two locations and three devices; merchant ids m1/m2, devices m1-dev-1 … */
export interface Tenants {
  merchants: ['m1', 'm2'];
  locations: Record<'m1' | 'm2', [string, string]>;
  devices: Record<'m1' | 'm2', [string, string, string]>;
}

export const T0 = Date.UTC(2026, 2, 10, 9, 0, 0);

export async function seedTenants(db: Db): Promise<Tenants> {
  const k = db.kysely;
  const tenants: Tenants = {
    merchants: ['m1', 'm2'],
    locations: { m1: ['m1-loc-a', 'm1-loc-b'], m2: ['m2-loc-a', 'm2-loc-b'] },
    devices: { m1: ['m1-dev-1', 'm1-dev-2', 'm1-dev-3'], m2: ['m2-dev-1', 'm2-dev-2', 'm2-dev-3'] },
  };
  for (const m of tenants.merchants) {
    await k
      .insertInto('merchants')
      .values({ id: m, name: `Merchant ${m}`, created_at: T0 })
      .execute();
    const [locA, locB] = tenants.locations[m];
    for (const loc of [locA, locB]) {
      await k
        .insertInto('locations')
        .values({ id: loc, merchant_id: m, name: loc, address: null, created_at: T0 })
        .execute();
    }
    const devs = tenants.devices[m];
    for (const [i, dev] of devs.entries()) {
      await k
        .insertInto('devices')
        .values({
          id: dev,
          merchant_id: m,
          location_id: i < 2 ? locA : locB,
          model: 'cm-1',
          name: dev,
          credential_hash: 'x',
          credential_rotated_at: T0,
          revoked_at: null,
          created_at: T0,
        })
        .execute();
    }
  }
  return tenants;
}

export function testContext(db: Db, clock = new FakeClock(T0)): { ctx: OpsContext; clock: FakeClock } {
  return { ctx: createOpsContext(db.kysely, db.kind, clock), clock };
}

export interface Sale {
  deviceId: string;
  merchantId: string;
  orderId: string;
  amount: number;
  at: number;
  status?: 'completed' | 'failed';
  method?: 'card' | 'free_vend';
  /** Whether the card payment was captured (a failed vend is voided instead). */
  captured?: boolean;
}

/** Writes an order and its payment the way ingest stores them. */
export async function insertSale(db: Db, s: Sale): Promise<void> {
  const captured = s.captured ?? s.status !== 'failed';
  await db.kysely
    .insertInto('orders')
    .values({
      device_id: s.deviceId,
      order_id: s.orderId,
      merchant_id: s.merchantId,
      status: s.status ?? 'completed',
      recipe_id: 'espresso',
      size: 'M',
      amount: s.amount,
      currency: 'EUR',
      method: s.method ?? 'card',
      code: null,
      created_at: s.at,
      updated_at: s.at + 30_000,
    })
    .execute();
  await db.kysely
    .insertInto('payments')
    .values({
      device_id: s.deviceId,
      payment_id: `pay-${s.orderId}`,
      merchant_id: s.merchantId,
      order_id: s.orderId,
      status: captured ? 'captured' : 'voided',
      amount: s.amount,
      currency: 'EUR',
      terminal_ref: `txn-${s.orderId}`,
      created_at: s.at + 1000,
      updated_at: s.at + 30_000,
    })
    .execute();
}
