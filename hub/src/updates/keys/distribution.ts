import type { Logger } from 'pino';
import type { CommandView } from '../../commands/model';
import { CommandService, MAX_TTL_MS } from '../../commands/service';
import type { FleetEvents } from '../../fleet/events';
import { type Actor, ALL_MERCHANTS, type OpsContext } from '../../operations/context';
import type { OpsEventBus } from '../../operations/events/bus';
import { keyStatements } from './keyring';

/** A `trust_keys` command carries at most this many statements (TrustKeysParamsSchema). */
const MAX_STATEMENTS = 8;
/** Who queues the catch-up commands of returning devices. */
const HUB_ACTOR: Actor = { userId: 'hub' };
/** Statuses after which a device never received or applied the command: it is queued again. */
const LOST = ['expired', 'cancelled'];

/** The statements a `trust_keys` command carries: the newest ones, oldest first. */
async function chainTail(ctx: OpsContext): Promise<string[]> {
  const all = await keyStatements(ctx.db);
  return all.slice(-MAX_STATEMENTS).map((s) => s.jws);
}

/** Queues `trust_keys` with the chain's tail for every active device (in the caller's transaction). */
export async function queueTrustKeysForFleet(ctx: OpsContext, actor: Actor): Promise<CommandView[]> {
  const statements = await chainTail(ctx);
  if (statements.length === 0) return [];
  const merchants = await ctx.db
    .selectFrom('devices')
    .select('merchant_id')
    .distinct()
    .where('revoked_at', 'is', null)
    .execute();
  const out: CommandView[] = [];
  for (const m of merchants) {
    const { commands } = await new CommandService(ctx).create(ALL_MERCHANTS, actor, {
      kind: 'trust_keys',
      params: { statements },
      ttlMs: MAX_TTL_MS,
      target: { merchantId: m.merchant_id },
    });
    out.push(...commands);
  }
  return out;
}

/**
 * Gets key statements to devices that missed them: on every birth, a device that has no `trust_keys`
 * command carrying the newest statement (or only expired or cancelled ones) gets one. The agent skips
 * statements it already applied, so a repeat is harmless.
 */
export class TrustKeysCatchUp {
  private off: (() => void) | undefined;
  private readonly log: Logger;

  constructor(
    private readonly options: { ctx: OpsContext; fleet: FleetEvents; bus: OpsEventBus; logger: Logger },
  ) {
    this.log = options.logger.child({ ns: 'hub:updates:trust-keys' });
  }

  start(): void {
    this.off ??= this.options.fleet.on('birth', ({ deviceId }) => {
      this.catchUp(deviceId).catch((err) => this.log.error({ err, deviceId }, 'trust_keys catch-up failed'));
    });
  }

  stop(): void {
    this.off?.();
    this.off = undefined;
  }

  /** Queues the chain for one device when it lacks the newest statement; returns the command if queued. */
  async catchUp(deviceId: string): Promise<CommandView | undefined> {
    const { ctx, bus } = this.options;
    const statements = await chainTail(ctx);
    const newest = statements.at(-1);
    if (newest === undefined) return undefined;
    const sent = await ctx.db
      .selectFrom('commands')
      .select(['status', 'params'])
      .where('device_id', '=', deviceId)
      .where('kind', '=', 'trust_keys')
      .execute();
    if (sent.some((c) => !LOST.includes(c.status) && c.params.includes(newest))) return undefined;
    const { commands } = await new CommandService(ctx).create(ALL_MERCHANTS, HUB_ACTOR, {
      kind: 'trust_keys',
      params: { statements },
      ttlMs: MAX_TTL_MS,
      target: { deviceIds: [deviceId] },
    });
    for (const c of commands)
      bus.publish({
        type: 'command.queued',
        merchantId: c.merchantId,
        deviceId: c.deviceId,
        at: ctx.now(),
        data: { id: c.id, kind: c.kind, batchId: c.batchId },
      });
    this.log.info({ deviceId }, 'trust_keys queued for a returning device');
    return commands[0];
  }
}
