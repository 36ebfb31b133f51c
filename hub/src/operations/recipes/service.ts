import {
  PriceSchema,
  type RecipeBundle,
  RecipeSchema,
  type RecipeSet,
  RecipeSetSchema,
  readBundleManifest,
} from '@crema/protocol';
import type { Selectable } from 'kysely';
import { z } from 'zod';
import type { CommandView } from '../../commands/model';
import type { BatchView } from '../../commands/service';
import { CommandService } from '../../commands/service';
import type { RecipeAssignmentsTable, RecipeSetsTable } from '../../db/tables/operations';
import { HubError } from '../../errors';
import { type Actor, type OpsContext, type Page, type PageQuery, pageBounds, type Scope } from '../context';
import { deviceInScope, locationInScope, owningMerchant } from '../shared/lookup';
import { inTx } from '../shared/tx';
import { signRecipeBundle } from './bundle';
import type { SigningKey } from './signing-key';

/** A new version: the whole menu (recipes and their prices); the hub numbers and signs it. */
export const RecipeSetInputSchema = z.object({
  merchantId: z.string().max(64).optional(),
  recipes: z.array(RecipeSchema).min(1).max(200),
  prices: z.object({
    currency: z.string().regex(/^[A-Z]{3}$/),
    items: z.array(PriceSchema).max(600),
  }),
  note: z.string().max(500).optional(),
});
export type RecipeSetInput = z.infer<typeof RecipeSetInputSchema>;

export const AssignTargetSchema = z.union([
  z.object({ deviceId: z.string().max(64) }),
  z.object({ locationId: z.string().max(64) }),
]);
export type AssignTarget = z.infer<typeof AssignTargetSchema>;

export interface RecipeSetSummary {
  id: string;
  merchantId: string;
  version: number;
  recipes: number;
  sha256: string;
  note: string | null;
  createdBy: string;
  createdAt: number;
}

export interface AssignmentView {
  id: string;
  recipeSetId: string;
  version: number;
  targetType: 'device' | 'location';
  targetId: string;
  batchId: string;
  createdBy: string;
  createdAt: number;
  /** Rollout status: the install_recipes commands of the assignment by status. */
  rollout: BatchView['counts'];
}

/** Versioned, signed menus per merchant, rolled out to machines or locations as install_recipes commands. */
export class RecipeService {
  private readonly commands: CommandService;

  constructor(
    private readonly ctx: OpsContext,
    private readonly key: SigningKey,
  ) {
    this.commands = new CommandService(ctx);
  }

  async create(
    scope: Scope,
    actor: Actor,
    input: RecipeSetInput,
  ): Promise<RecipeSetSummary & { bundle: RecipeBundle }> {
    const req = RecipeSetInputSchema.parse(input);
    const merchantId = await owningMerchant(this.ctx, scope, req.merchantId);
    checkPrices(req);
    const last = await this.ctx.db
      .selectFrom('recipe_sets')
      .select((eb) => eb.fn.max('version').as('v'))
      .where('merchant_id', '=', merchantId)
      .executeTakeFirst();
    const version = Number(last?.v ?? 0) + 1;
    const createdAt = this.ctx.now();
    const payload = RecipeSetSchema.parse({ recipes: req.recipes, prices: { version, ...req.prices } });
    const bundle = await signRecipeBundle(this.key, merchantId, version, createdAt, payload);
    const row: Selectable<RecipeSetsTable> = {
      id: this.ctx.newId(),
      merchant_id: merchantId,
      version,
      bundle: JSON.stringify(bundle),
      sha256: readBundleManifest(bundle).sha256,
      note: req.note ?? null,
      created_by: actor.userId,
      created_at: createdAt,
    };
    try {
      await this.ctx.db.insertInto('recipe_sets').values(row).execute();
    } catch (err) {
      throw new HubError('CONFLICT', 'another version was created at the same time; try again', {
        cause: err,
      });
    }
    return { ...toSummary(row), bundle };
  }

  async list(scope: Scope, page: PageQuery): Promise<Page<RecipeSetSummary>> {
    const { limit, offset } = pageBounds(page);
    let q = this.ctx.db.selectFrom('recipe_sets');
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    const [rows, count] = await Promise.all([
      q.selectAll().orderBy('merchant_id').orderBy('version', 'desc').limit(limit).offset(offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toSummary), total: Number(count.n), limit, offset };
  }

  async get(scope: Scope, id: string): Promise<RecipeSetSummary & { bundle: RecipeBundle }> {
    const row = await this.row(scope, id);
    return { ...toSummary(row), bundle: JSON.parse(row.bundle) as RecipeBundle };
  }

  /**
   * The set's bundle signed by the current key: a set published before a key rotation (or in the older
   * bundle format) is signed again, same manifest, so that machines which no longer trust the old key take it.
   */
  private async signedNow(set: Selectable<RecipeSetsTable>): Promise<RecipeBundle> {
    const stored = JSON.parse(set.bundle) as { manifest: unknown; payload: RecipeSet };
    if (typeof stored.manifest === 'string') {
      if (jwsKid(stored.manifest) === this.key.keyId) return stored as RecipeBundle;
    }
    const bundle = await signRecipeBundle(
      this.key,
      set.merchant_id,
      Number(set.version),
      Number(set.created_at),
      stored.payload,
    );
    await this.ctx.db
      .updateTable('recipe_sets')
      .set({ bundle: JSON.stringify(bundle) })
      .where('id', '=', set.id)
      .execute();
    return bundle;
  }

  /** Sends the signed set to one machine or every machine of a location; the commands carry the rollout. */
  async assign(
    scope: Scope,
    actor: Actor,
    id: string,
    target: AssignTarget,
    ttlMs?: number,
  ): Promise<{ assignment: AssignmentView; commands: CommandView[] }> {
    const set = await this.row(scope, id);
    // Only machines of the set's own merchant can receive it, whoever asks.
    const own = { merchantId: set.merchant_id };
    const commandTarget =
      'deviceId' in target
        ? { deviceIds: [(await deviceInScope(this.ctx, own, target.deviceId)).id] }
        : { locationId: (await locationInScope(this.ctx, own, target.locationId)).id };
    return inTx(this.ctx.db, async (tx) => {
      const commands = new CommandService({ ...this.ctx, db: tx });
      const { batch, commands: queued } = await commands.create(own, actor, {
        kind: 'install_recipes',
        params: { bundle: await this.signedNow(set) },
        ...(ttlMs === undefined ? {} : { ttlMs }),
        target: commandTarget,
      });
      const row = {
        id: this.ctx.newId(),
        merchant_id: set.merchant_id,
        recipe_set_id: set.id,
        target_type: 'deviceId' in target ? 'device' : 'location',
        target_id: 'deviceId' in target ? target.deviceId : target.locationId,
        batch_id: batch.id,
        created_by: actor.userId,
        created_at: this.ctx.now(),
      };
      await tx.insertInto('recipe_assignments').values(row).execute();
      return { assignment: toAssignment(row, set.version, batch.counts), commands: queued };
    });
  }

  async listAssignments(scope: Scope, recipeSetId?: string): Promise<AssignmentView[]> {
    if (recipeSetId !== undefined) await this.row(scope, recipeSetId);
    let q = this.ctx.db
      .selectFrom('recipe_assignments as a')
      .innerJoin('recipe_sets as s', 's.id', 'a.recipe_set_id')
      .selectAll('a')
      .select('s.version');
    if (scope.merchantId !== undefined) q = q.where('a.merchant_id', '=', scope.merchantId);
    if (recipeSetId) q = q.where('a.recipe_set_id', '=', recipeSetId);
    const rows = await q.orderBy('a.created_at', 'desc').orderBy('a.id', 'desc').limit(500).execute();
    const out: AssignmentView[] = [];
    for (const r of rows) {
      const batch = await this.commands.getBatch({ merchantId: r.merchant_id }, r.batch_id);
      out.push(toAssignment(r, r.version, batch.counts));
    }
    return out;
  }

  private async row(scope: Scope, id: string): Promise<Selectable<RecipeSetsTable>> {
    let q = this.ctx.db.selectFrom('recipe_sets').selectAll().where('id', '=', id);
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    const row = await q.executeTakeFirst();
    if (!row) throw new HubError('NOT_FOUND', `recipe set ${id} not found`);
    return row;
  }
}

/** Every price names a recipe and size of this set, once. */
function checkPrices(req: RecipeSetInput): void {
  const sizes = new Map(req.recipes.map((r) => [r.id, new Set(r.sizes.map((s) => s.id))]));
  if (sizes.size !== req.recipes.length) throw new HubError('VALIDATION_FAILED', 'recipe ids must be unique');
  const seen = new Set<string>();
  for (const p of req.prices.items) {
    if (!sizes.get(p.recipeId)?.has(p.size)) {
      throw new HubError(
        'VALIDATION_FAILED',
        `price for ${p.recipeId}/${p.size} names no recipe size of this set`,
      );
    }
    const k = `${p.recipeId}/${p.size}`;
    if (seen.has(k)) throw new HubError('VALIDATION_FAILED', `two prices for ${k}`);
    seen.add(k);
  }
}

function toSummary(r: Selectable<RecipeSetsTable>): RecipeSetSummary {
  const bundle = JSON.parse(r.bundle) as RecipeBundle;
  return {
    id: r.id,
    merchantId: r.merchant_id,
    version: r.version,
    recipes: bundle.payload.recipes.length,
    sha256: r.sha256,
    note: r.note,
    createdBy: r.created_by,
    createdAt: r.created_at,
  };
}

function toAssignment(
  r: Omit<Selectable<RecipeAssignmentsTable>, 'merchant_id'>,
  version: number,
  rollout: BatchView['counts'],
): AssignmentView {
  return {
    id: r.id,
    recipeSetId: r.recipe_set_id,
    version,
    targetType: r.target_type as AssignmentView['targetType'],
    targetId: r.target_id,
    batchId: r.batch_id,
    createdBy: r.created_by,
    createdAt: r.created_at,
    rollout,
  };
}

/** The key id in a compact JWS's protected header, or undefined. */
function jwsKid(jws: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(jws.split('.')[0] ?? '', 'base64url').toString('utf8'));
    return typeof header?.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}
