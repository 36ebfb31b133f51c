import type { Clock } from '@crema/protocol';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ClusterBus } from '../coordination/cluster-bus';
import type { Db } from '../db/connect';
import type { MqttGateway } from '../mqtt/gateway';
import type { OpsContext } from '../operations/context';
import type { OpsEvent, OpsEventBus } from '../operations/events/bus';
import type { SigningKeyring } from '../updates/keys/keyring';

const OpsEventSchema = z.object({
  type: z.string(),
  merchantId: z.string().nullable(),
  deviceId: z.string().optional(),
  at: z.number(),
  data: z.record(z.string(), z.unknown()),
});
const DeviceRefSchema = z.object({ deviceId: z.string() });

/**
 * Several hub processes on one store: the cluster bus carries every live event to the other processes (an SSE
 * stream on one hub sees what another ingested) and tells them when this one marked a device offline.
 */
export function buildClusterBus(options: {
  url: string;
  db: Db;
  processId: string;
  clock: Clock;
  logger: Logger;
  bus: OpsEventBus;
  gateway: MqttGateway;
  keyring: SigningKeyring;
  ctx: OpsContext;
}): ClusterBus {
  const { db, bus, gateway, keyring, ctx } = options;
  const log = options.logger.child({ ns: 'hub:cluster' });
  const cluster = new ClusterBus({
    url: options.url,
    ...(db.schema === undefined ? {} : { schema: db.schema }),
    db,
    processId: options.processId,
    clock: options.clock,
    logger: options.logger,
  });
  // Events that came from another process are passed on locally, never sent back out.
  const remote = new WeakSet<OpsEvent>();
  bus.subscribe((event) => {
    if (!remote.has(event)) void cluster.publish('ops', event);
  });
  cluster.on('ops', (data) => {
    const parsed = OpsEventSchema.safeParse(data);
    if (!parsed.success) return;
    const event: OpsEvent = { ...parsed.data };
    if (parsed.data.deviceId === undefined) delete event.deviceId;
    remote.add(event);
    bus.publish(event);
  });
  gateway.events.on('offline', (e) => void cluster.publish('fleet.offline', { deviceId: e.deviceId }));
  cluster.on('fleet.offline', (data) => {
    const parsed = DeviceRefSchema.safeParse(data);
    if (parsed.success) gateway.fleet.offlineElsewhere(parsed.data.deviceId);
  });
  // A key change: the others take the new key now (signers also ask the store before each signature).
  keyring.onChange((kid) => void cluster.publish('signing-key.changed', { kid }));
  cluster.on('signing-key.changed', () => {
    keyring.fresh(ctx).catch((err: unknown) => log.warn({ err }, 'cannot take the new signing key'));
  });
  return cluster;
}

/** Whether a device is connected, by the shared fleet state: its messages may reach another hub process. */
export function sharedIsOnline(db: Db, gateway: MqttGateway) {
  return async (deviceId: string): Promise<boolean> => {
    if (gateway.fleet.isOnline(deviceId)) return true;
    const row = await db.kysely
      .selectFrom('device_state')
      .select('online')
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return row?.online === 1;
  };
}
