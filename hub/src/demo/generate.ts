import { randomBytes } from 'node:crypto';
import { type Clock, seededRandom } from '@crema/protocol';
import type { Insertable } from 'kysely';
import { AuditLog } from '../audit/log';
import type { PasswordHasher } from '../auth/passwords';
import type { Db } from '../db/connect';
import type { Database } from '../db/database';
import { generateDeviceSecret, hashDeviceSecret } from '../devices/credentials';
import { syncDeviceAlarms } from '../operations/alarms/device-sync';
import { createOpsContext } from '../operations/context';
import { syncMaterialLevels } from '../operations/materials/levels-sync';
import type { SigningKey } from '../operations/recipes/signing-key';
import type { Role } from '../rbac/permissions';
import type { ArtifactStore } from '../updates/artifacts/store';
import { seedActivity } from './activity';
import { seedApiKeys } from './api-keys';
import {
  DEMO_CATALOG,
  DEMO_CITIES,
  DEMO_FAULTS,
  DEMO_MERCHANTS,
  DEMO_SITES,
  DEMO_TIME_ZONES,
  demoBins,
} from './catalog';
import { seedClaimCodes } from './claim-codes';
import { seedDexReads } from './dex';
import { seedIntegrations } from './integrations';
import { seedMaintenance } from './maintenance';
import { seedOrders } from './orders';
import { type DemoWorld, insertChunks } from './world';

export interface DemoOptions {
  devices: number;
  orders: number;
  merchants?: number;
  /** Orders spread over this many past days. */
  days?: number;
  seed?: number;
  onlineRate?: number;
  faultRate?: number;
}

export interface DemoUser {
  email: string;
  password: string;
  role: Role;
  merchantId: string;
}

export interface DemoSummary {
  run: string;
  merchants: number;
  locations: number;
  devices: number;
  orders: number;
  refunds: number;
  lowBins: number;
  alarms: number;
  workOrders: number;
  attachments: number;
  commands: number;
  recipeSets: number;
  claimCodes: number;
  /** Integration keys of every status (their secrets are not kept). */
  apiKeys: number;
  /** Webhook subscriptions (paused, with a delivery history) and login attempts of the demo users. */
  webhooks: number;
  logins: number;
  /** Machines with a rinse or descale overdue (each with its alarm). */
  maintenanceOverdue: number;
  users: DemoUser[];
  /** Audit-counter reads and resets (DEX). */
  dexReads: number;
  dexResets: number;
}

export interface DemoEnv {
  clock: Clock;
  passwords: PasswordHasher;
  signingKey: SigningKey;
  /** Where work-order attachments go (the hub's artifact store, attachments space); none without it. */
  attachments?: ArtifactStore;
}

const ROLES = ['merchant_admin', 'ops_engineer', 'finance', 'viewer'] as const;

/**
 * Fills a hub store with a realistic fleet: merchants with staff, locations, machines (online or not), a
 * history of orders and payments with refunds, stock levels (some low), machine faults, work orders,
 * commands in every state, a signed menu per merchant, and the audit trail of the people who acted.
 * Additive: every run gets its own id prefix.
 */
export async function generateDemo(db: Db, options: DemoOptions, env: DemoEnv): Promise<DemoSummary> {
  const rng = seededRandom(options.seed ?? Date.now());
  const run = randomBytes(3).toString('hex');
  const ctx = createOpsContext(db.kysely, db.kind, env.clock);
  const now = ctx.now();
  const merchantCount = Math.max(1, Math.min(options.merchants ?? 3, options.devices, DEMO_MERCHANTS.length));
  const world: DemoWorld = { ctx, rng, audit: new AuditLog(env.clock), run, now, merchants: [] };
  const users: DemoUser[] = [];

  for (let m = 0; m < merchantCount; m++) {
    const id = `demo-${run}-m${m + 1}`;
    const name = DEMO_MERCHANTS[m] ?? `Demo merchant ${m + 1}`;
    await db.kysely
      .insertInto('merchants')
      .values({ id, name, created_at: now, time_zone: DEMO_TIME_ZONES[m % DEMO_TIME_ZONES.length] ?? 'UTC' })
      .execute();
    const staff = {} as DemoWorld['merchants'][number]['staff'];
    for (const role of ROLES) {
      const password = randomBytes(12).toString('base64url');
      const email = `${role.replace('_', '.')}@${id}.demo`;
      const userId = `${id}-${role}`;
      await db.kysely
        .insertInto('users')
        .values({
          id: userId,
          merchant_id: id,
          email,
          name: `${name} ${role.replace('_', ' ')}`,
          role,
          password_hash: await env.passwords.hash(password),
          password_changed_at: now,
          created_at: now,
          updated_at: now,
        })
        .execute();
      staff[role] = { userId, role, merchantId: id };
      users.push({ email, password, role, merchantId: id });
    }
    world.merchants.push({ id, locations: [], devices: [], staff });
  }

  // Locations: about one per six machines, at least one per merchant.
  const perMerchant = world.merchants.map(
    (_, i) => Math.floor(options.devices / merchantCount) + (i < options.devices % merchantCount ? 1 : 0),
  );
  let locationCount = 0;
  for (const [i, merchant] of world.merchants.entries()) {
    const n = Math.max(1, Math.ceil((perMerchant[i] ?? 0) / 6));
    for (let l = 0; l < n; l++) {
      const id = `${merchant.id}-l${l + 1}`;
      await db.kysely
        .insertInto('locations')
        .values({
          id,
          merchant_id: merchant.id,
          name: `${rng.pick(DEMO_SITES)} ${rng.pick(DEMO_CITIES)}`,
          address: null,
          created_at: now,
        })
        .execute();
      merchant.locations.push(id);
      locationCount++;
    }
  }

  // Machines with a credential nobody holds (rotate it to connect a real agent), fleet state and stock.
  const secretHash = await hashDeviceSecret(generateDeviceSecret());
  let d = 0;
  const deviceRows: Insertable<Database['devices']>[] = [];
  const stateRows: Insertable<Database['device_state']>[] = [];
  const binRows: Insertable<Database['material_bins']>[] = [];
  const levelRows: Insertable<Database['material_levels']>[] = [];
  const activeAlarms: Insertable<Database['active_alarms']>[] = [];
  for (const [i, merchant] of world.merchants.entries()) {
    for (let k = 0; k < (perMerchant[i] ?? 0); k++) {
      const id = `demo-${run}-cm${String(++d).padStart(4, '0')}`;
      merchant.devices.push(id);
      const online = rng.chance(options.onlineRate ?? 0.7);
      deviceRows.push({
        id,
        merchant_id: merchant.id,
        location_id: merchant.locations[k % merchant.locations.length] ?? null,
        model: rng.pick(['CM-1', 'CM-1', 'CM-2']),
        name: `Machine ${d}`,
        credential_hash: secretHash,
        credential_rotated_at: now,
        revoked_at: null,
        created_at: now - 60 * 86_400_000,
      });
      stateRows.push({
        device_id: id,
        merchant_id: merchant.id,
        online: online ? 1 : 0,
        last_seen_at: online ? now - rng.int(1, 30) * 1000 : now - rng.int(1, 72) * 3_600_000,
        online_changed_at: now - rng.int(1, 48) * 3_600_000,
        offline_reason: online ? null : rng.pick(['lost', 'timeout', 'shutdown']),
        model: null,
        firmware_version: rng.pick(['1.4.2', '1.5.0', '1.5.1']),
        agent_version: '0.1.0',
        last_seq: 0,
      });
      for (const bin of demoBins(d)) {
        const low = rng.chance(0.12);
        const level =
          bin.material === 'waste'
            ? low
              ? rng.int(82, 99)
              : rng.int(5, 60)
            : low
              ? rng.int(0, Math.floor(bin.low * 0.9))
              : rng.int(bin.low + 1, bin.capacity);
        binRows.push({
          id: `${id}-${bin.material}`,
          merchant_id: merchant.id,
          device_id: id,
          bin: bin.bin,
          material: bin.material,
          unit: bin.unit,
          catalog_id: null,
          capacity: bin.capacity,
          level: bin.capacity,
          low_threshold: bin.low,
          high_threshold: bin.high,
          level_at: now - 3_600_000,
          low_since: null,
          updated_at: now - 3_600_000,
        });
        levelRows.push({
          device_id: id,
          material: bin.material,
          bin: bin.bin,
          merchant_id: merchant.id,
          level,
          capacity: bin.capacity,
          unit: bin.unit,
          at: now - rng.int(1, 600) * 1000,
        });
      }
      if (rng.chance(options.faultRate ?? 0.05)) {
        const fault = rng.pick(DEMO_FAULTS);
        activeAlarms.push({
          device_id: id,
          merchant_id: merchant.id,
          code: fault.code,
          severity: fault.severity,
          message: null,
          value: null,
          raised_at: now - rng.int(5, 600) * 60_000,
        });
      }
    }
  }
  await insertChunks(ctx, 'devices', deviceRows);
  await insertChunks(ctx, 'device_state', stateRows);
  await insertChunks(
    ctx,
    'material_catalog',
    world.merchants.flatMap((m) =>
      DEMO_CATALOG.map((c) => ({
        id: `${m.id}-${c.sku}`,
        merchant_id: m.id,
        sku: c.sku,
        name: c.name,
        material: c.material,
        unit: c.unit,
        pack_size: c.packSize,
        created_at: now,
        updated_at: now,
      })),
    ),
  );
  await insertChunks(ctx, 'material_bins', binRows);
  await insertChunks(ctx, 'material_levels', levelRows);
  await insertChunks(ctx, 'active_alarms', activeAlarms);
  const levels = await syncMaterialLevels(ctx);
  const alarms = await syncDeviceAlarms(ctx);

  const { orders, refunds } = await seedOrders(world, options.orders, options.days ?? 14);
  const activity = await seedActivity(world, env.signingKey, env.attachments);
  const dex = await seedDexReads(world);
  const claimCodes = await seedClaimCodes(world);
  const apiKeys = await seedApiKeys(world);
  const integrations = await seedIntegrations(world);
  const maintenanceOverdue = await seedMaintenance(world);
  return {
    run,
    merchants: merchantCount,
    locations: locationCount,
    devices: d,
    orders,
    refunds,
    lowBins: levels.low.length,
    alarms: alarms.raised.length + levels.low.length,
    workOrders: activity.workOrders,
    attachments: activity.attachments,
    commands: activity.commands,
    recipeSets: activity.recipeSets,
    claimCodes,
    apiKeys,
    webhooks: integrations.webhooks,
    logins: integrations.logins,
    maintenanceOverdue,
    users,
    dexReads: dex.reads,
    dexResets: dex.resets,
  };
}
