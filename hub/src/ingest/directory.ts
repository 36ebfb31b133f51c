import type { Db } from '../db/connect';

export type DeviceInfo = { merchantId: string };

/**
 * Which merchant each device belongs to, cached: every stored row carries `merchant_id`. The embedded broker
 * primes it at authentication; otherwise (external broker) the first message of a device loads it. Callbacks
 * for one device run in arrival order, even while its row is being loaded.
 */
export class DeviceDirectory {
  private readonly known = new Map<string, DeviceInfo | null>();
  private readonly waiting = new Map<string, ((info: DeviceInfo | null) => void)[]>();

  constructor(private readonly db: Db) {}

  remember(deviceId: string, merchantId: string): void {
    this.known.set(deviceId, { merchantId });
  }

  /** Forget a device (revoked, rotated, deleted): the next message reloads it. */
  forget(deviceId: string): void {
    this.known.delete(deviceId);
  }

  /** Calls `fn` with the device's info (null when unknown or revoked), synchronously when cached. */
  resolve(deviceId: string, fn: (info: DeviceInfo | null) => void): void {
    const cached = this.known.get(deviceId);
    if (cached !== undefined) {
      fn(cached);
      return;
    }
    const queue = this.waiting.get(deviceId);
    if (queue) {
      queue.push(fn);
      return;
    }
    this.waiting.set(deviceId, [fn]);
    this.load(deviceId).then(
      (info) => {
        // Unknown devices are not cached: they may be registered a moment later.
        if (info) this.known.set(deviceId, info);
        this.drain(deviceId, info);
      },
      () => this.drain(deviceId, null),
    );
  }

  private drain(deviceId: string, info: DeviceInfo | null): void {
    const queue = this.waiting.get(deviceId) ?? [];
    this.waiting.delete(deviceId);
    for (const fn of queue) fn(info);
  }

  private async load(deviceId: string): Promise<DeviceInfo | null> {
    const row = await this.db.kysely
      .selectFrom('devices')
      .select(['merchant_id', 'revoked_at'])
      .where('id', '=', deviceId)
      .executeTakeFirst();
    if (!row || row.revoked_at !== null) return null;
    return { merchantId: row.merchant_id };
  }
}
