import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Db } from '../../../src/db/connect';
import { hashDeviceSecret, verifyDeviceCredential } from '../../../src/devices/credentials';
import { MqttGateway, type MqttGatewayOptions } from '../../../src/mqtt/gateway';

export const silent = pino({ level: process.env.CREMA_TEST_LOG ?? 'silent' });

/** Registers a merchant (once) and a device with a fresh secret; returns the secret. */
export async function registerDevice(db: Db, deviceId: string, merchantId = 'm-test'): Promise<string> {
  const now = Date.now();
  await db.kysely
    .insertInto('merchants')
    .values({ id: merchantId, name: merchantId, created_at: now })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  const secret = randomBytes(24).toString('base64url');
  await db.kysely
    .insertInto('devices')
    .values({
      id: deviceId,
      merchant_id: merchantId,
      location_id: null,
      model: 'crema-one',
      name: deviceId,
      credential_hash: await hashDeviceSecret(secret),
      credential_rotated_at: now,
      revoked_at: null,
      created_at: now,
    })
    .execute();
  return secret;
}

export async function revokeDevice(db: Db, deviceId: string): Promise<void> {
  await db.kysely.updateTable('devices').set({ revoked_at: Date.now() }).where('id', '=', deviceId).execute();
}

export type TestGateway = MqttGateway & AsyncDisposable & { registry: Registry };

/** A gateway on a free port with the real credential check against `db`. */
export async function startGateway(db: Db, extra: Partial<MqttGatewayOptions> = {}): Promise<TestGateway> {
  const registry = new Registry();
  const gateway = new MqttGateway({
    db,
    logger: silent,
    port: 0,
    authenticate: (deviceId, secret) => verifyDeviceCredential(db, deviceId, secret),
    metricsRegistry: registry,
    ...extra,
  });
  await gateway.start();
  return Object.assign(gateway, { registry, [Symbol.asyncDispose]: () => gateway.stop() });
}

/** Value of a counter or gauge, summed over the series whose labels match `labels`. */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}
