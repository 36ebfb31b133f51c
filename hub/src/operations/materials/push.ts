import { type BinBinding, BinBindingsSchema, DEFAULT_BINS, MaterialUnitSchema } from '@crema/protocol';
import { CommandService } from '../../commands/service';
import { HubError } from '../../errors';
import type { Actor, OpsContext, Scope } from '../context';
import { deviceInScope } from '../shared/lookup';

/**
 * Installs the hub's binding of a machine's bins on the machine: one `set_config` command whose
 * `settings.bins` is every bin of the device (number, material, unit, capacity) and the default kind of any
 * default bin the hub has not seen yet, replacing the machine's binding as a whole. Its config version is above both what the machine last said it runs (birth) and any
 * set_config already sent to it, so the machine never refuses it as older.
 */
export async function pushBinding(
  ctx: OpsContext,
  scope: Scope,
  actor: Actor,
  deviceId: string,
  ttlMs?: number,
) {
  await deviceInScope(ctx, scope, deviceId);
  const rows = await ctx.db
    .selectFrom('material_bins')
    .select(['bin', 'material', 'unit', 'capacity'])
    .where('device_id', '=', deviceId)
    .orderBy('bin')
    .execute();
  if (rows.length === 0) throw new HubError('NOT_FOUND', `device ${deviceId} has no bins to install`);
  const known: BinBinding[] = rows.map((r) => ({
    bin: Number(r.bin),
    material: r.material,
    unit: MaterialUnitSchema.parse(r.unit),
    capacity: Number(r.capacity),
  }));
  // The binding replaces the machine's whole: a default bin the hub has no row for yet (no report so far)
  // keeps its default kind, unless that kind is bound elsewhere.
  const defaults = DEFAULT_BINS.filter(
    (d) => !known.some((k) => k.bin === d.bin || k.material === d.material),
  ).map((d) => ({ ...d }));
  const bins = BinBindingsSchema.parse([...defaults, ...known].sort((a, b) => a.bin - b.bin));
  const [state, sent] = await Promise.all([
    ctx.db
      .selectFrom('device_state')
      .select('config_version')
      .where('device_id', '=', deviceId)
      .executeTakeFirst(),
    ctx.db
      .selectFrom('commands')
      .select('params')
      .where('device_id', '=', deviceId)
      .where('kind', '=', 'set_config')
      .execute(),
  ]);
  const versions = sent.map((c) =>
    Number((JSON.parse(c.params) as { config?: { version?: number } }).config?.version ?? 0),
  );
  const version = Math.max(Number(state?.config_version ?? 0), ...versions) + 1;
  return new CommandService(ctx).create(scope, actor, {
    kind: 'set_config',
    params: { config: { version, settings: { bins } } },
    target: { deviceIds: [deviceId] },
    ...(ttlMs === undefined ? {} : { ttlMs }),
  });
}
