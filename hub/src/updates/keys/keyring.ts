import {
  KEY_STATEMENT_TYP,
  type KeyStatement,
  KeyStatementSchema,
  MANIFEST_TYP,
  type TrustedKey,
} from '@crema/protocol';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../../db/database';
import { HubError } from '../../errors';
import type { Actor, OpsContext } from '../../operations/context';
import { loadSigningKey, SigningKey } from '../../operations/recipes/signing-key';
import { readKeyFiles, writeKeyFile } from './key-files';

export interface SigningKeyView {
  kid: string;
  status: 'current' | 'retired' | 'revoked';
  jwk: TrustedKey['jwk'];
  createdAt: number;
  retiredAt: number | null;
  revokedAt: number | null;
  createdBy: string;
}

export interface StatementView {
  seq: number;
  jws: string;
  signerKid: string;
  addedKid: string | null;
  revoked: string[];
  issuedAt: number;
}

/** A rotation or revocation as it was committed; `next` is adopted by the keyring after the commit. */
export interface KeyChange {
  statement: StatementView;
  next: SigningKey;
  /** Artifact manifests signed again with the current key. */
  resigned: number;
}

/**
 * The hub's signing keys: the current one signs manifests, recipe bundles and key statements; earlier ones
 * are `retired` (devices still trust them) or `revoked` (devices refuse them forever). The first key is
 * `CREMA_SIGNING_KEY` or `<dataDir>/signing-key.pem`; rotated keys are written to
 * `<dataDir>/signing-keys/<kid>.pem`, and the store records which kid is current, so a restart signs with
 * the key the last rotation chose. Each change is a key statement signed by a key devices trust, kept in
 * order (`key_statements`) so that a device that missed some catches up (docs/protocol.md §15).
 */
export class SigningKeyring {
  private constructor(
    private key: SigningKey,
    private readonly dataDir: string,
  ) {}

  static async open(
    db: Kysely<Database>,
    dataDir: string,
    fromEnv: string | undefined,
    now: number,
    logger?: Logger,
  ): Promise<SigningKeyring> {
    const base = loadSigningKey(dataDir, fromEnv);
    const current = await db
      .selectFrom('signing_keys')
      .selectAll()
      .where('status', '=', 'current')
      .executeTakeFirst();
    if (!current) {
      await db
        .insertInto('signing_keys')
        .values(keyRow(base, 'hub', now))
        .onConflict((oc) => oc.column('kid').doNothing())
        .execute();
      return new SigningKeyring(base, dataDir);
    }
    if (current.kid === base.keyId) return new SigningKeyring(base, dataDir);
    const rotated = readKeyFiles(dataDir).get(current.kid);
    if (rotated) return new SigningKeyring(rotated, dataDir);
    const known = await db
      .selectFrom('signing_keys')
      .select('kid')
      .where('kid', '=', base.keyId)
      .executeTakeFirst();
    if (!known) {
      // The key was replaced by hand (a new CREMA_SIGNING_KEY): it is current from now on, with no statement,
      // so devices must be given it again (docs/protocol.md §15).
      logger?.warn({ previous: current.kid, current: base.keyId }, 'signing key replaced outside a rotation');
      await db
        .updateTable('signing_keys')
        .set({ status: 'retired', retired_at: now })
        .where('kid', '=', current.kid)
        .execute();
      await db
        .insertInto('signing_keys')
        .values(keyRow(base, 'hub', now))
        .execute();
      return new SigningKeyring(base, dataDir);
    }
    throw new HubError(
      'CONFIG_INVALID',
      `the current signing key ${current.kid} is not in ${dataDir}/signing-keys: copy that directory ` +
        'from the hub that rotated the key (every hub sharing this database needs it)',
    );
  }

  /**
   * A keyring over one given key (tests, tools): recorded in the store on its first change, rotated keys
   * written under `dataDir` (none: it cannot rotate).
   */
  static of(key: SigningKey, dataDir = ''): SigningKeyring {
    return new SigningKeyring(key, dataDir);
  }

  current(): SigningKey {
    return this.key;
  }

  /** Takes the key a committed change chose. */
  adopt(change: KeyChange): void {
    this.key = change.next;
  }

  /**
   * A new key becomes current. The statement (signed by the old key) adds it and, unless `keepPrevious`,
   * revokes the old one. Stored manifests are signed again with the new key so that rollouts offer
   * manifests devices accept. Run in a transaction; `adopt` the result once it committed.
   */
  async rotate(ctx: OpsContext, actor: Actor, keepPrevious: boolean): Promise<KeyChange> {
    const old = this.key;
    await this.assertCurrent(ctx, old);
    const next = SigningKey.generate();
    if (this.dataDir === '') throw new HubError('UNAVAILABLE', 'this keyring has no data directory');
    writeKeyFile(this.dataDir, next);
    const now = ctx.now();
    await ctx.db
      .insertInto('signing_keys')
      .values(keyRow(next, actor.userId, now))
      .execute();
    await ctx.db
      .updateTable('signing_keys')
      .set(
        keepPrevious
          ? { status: 'retired', retired_at: now }
          : { status: 'revoked', retired_at: now, revoked_at: now },
      )
      .where('kid', '=', old.keyId)
      .execute();
    const statement = await this.record(ctx, old, {
      type: 'crema-key-statement',
      add: next.trusted,
      revoke: keepPrevious ? [] : [old.keyId],
      issuedAt: now,
    });
    return { statement, next, resigned: await resignManifests(ctx, next) };
  }

  /** Revokes a retired key (a compromised one); the current key cannot be, it is rotated instead. */
  async revoke(ctx: OpsContext, kid: string): Promise<KeyChange> {
    const current = this.key;
    await this.assertCurrent(ctx, current);
    const row = await ctx.db.selectFrom('signing_keys').selectAll().where('kid', '=', kid).executeTakeFirst();
    if (!row) throw new HubError('NOT_FOUND', `signing key ${kid} not found`);
    if (row.status === 'current') throw new HubError('SIGNING_KEY_CURRENT', `${kid} is the current key`);
    if (row.status === 'revoked') throw new HubError('INVALID_TRANSITION', `${kid} is already revoked`);
    const now = ctx.now();
    await ctx.db
      .updateTable('signing_keys')
      .set({ status: 'revoked', revoked_at: now })
      .where('kid', '=', kid)
      .execute();
    const statement = await this.record(ctx, current, {
      type: 'crema-key-statement',
      revoke: [kid],
      issuedAt: now,
    });
    return { statement, next: current, resigned: 0 };
  }

  async keys(db: Kysely<Database>): Promise<SigningKeyView[]> {
    const rows = await db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'asc').execute();
    // A keyring built over a given key (`of`) records it only on its first change.
    if (!rows.some((r) => r.kid === this.key.keyId)) rows.push(keyRow(this.key, 'hub', 0));
    return rows.map((r) => ({
      kid: r.kid,
      status: r.status,
      jwk: JSON.parse(r.public_jwk) as TrustedKey['jwk'],
      createdAt: Number(r.created_at),
      retiredAt: r.retired_at === null ? null : Number(r.retired_at),
      revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
      createdBy: r.created_by,
    }));
  }

  private async assertCurrent(ctx: OpsContext, key: SigningKey): Promise<void> {
    const current = () =>
      ctx.db.selectFrom('signing_keys').select('kid').where('status', '=', 'current').executeTakeFirst();
    let row = await current();
    if (!row) {
      // A keyring built over a given key (`of`) records it on its first change.
      await ctx.db
        .insertInto('signing_keys')
        .values(keyRow(key, 'hub', ctx.now()))
        .execute();
      row = await current();
    }
    if (row?.kid !== key.keyId)
      throw new HubError(
        'CONFLICT',
        `the current key is ${row?.kid ?? 'unknown'}, this hub signs with ${key.keyId}: restart it`,
      );
  }

  private async record(ctx: OpsContext, signer: SigningKey, s: KeyStatement): Promise<StatementView> {
    const statement = KeyStatementSchema.parse(s);
    const jws = await signer.signJws(new TextEncoder().encode(JSON.stringify(statement)), KEY_STATEMENT_TYP);
    const last = await ctx.db
      .selectFrom('key_statements')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .executeTakeFirst();
    const view: StatementView = {
      seq: Number(last?.seq ?? 0) + 1,
      jws,
      signerKid: signer.keyId,
      addedKid: statement.add?.kid ?? null,
      revoked: statement.revoke,
      issuedAt: statement.issuedAt,
    };
    await ctx.db
      .insertInto('key_statements')
      .values({
        seq: view.seq,
        jws,
        signer_kid: view.signerKid,
        added_kid: view.addedKid,
        revoked: JSON.stringify(view.revoked),
        issued_at: view.issuedAt,
      })
      .execute();
    return view;
  }
}

/** The whole chain of key statements, oldest first. */
export async function keyStatements(db: Kysely<Database>, afterSeq = 0): Promise<StatementView[]> {
  const rows = await db
    .selectFrom('key_statements')
    .selectAll()
    .where('seq', '>', afterSeq)
    .orderBy('seq', 'asc')
    .execute();
  return rows.map((r) => ({
    seq: Number(r.seq),
    jws: r.jws,
    signerKid: r.signer_kid,
    addedKid: r.added_kid,
    revoked: JSON.parse(r.revoked) as string[],
    issuedAt: Number(r.issued_at),
  }));
}

function keyRow(key: SigningKey, by: string, now: number) {
  return {
    kid: key.keyId,
    public_jwk: JSON.stringify(key.trusted.jwk),
    status: 'current' as const,
    created_at: now,
    retired_at: null,
    revoked_at: null,
    created_by: by,
  };
}

/** Signs every stored artifact manifest again, same bytes, with `key`. */
async function resignManifests(ctx: OpsContext, key: SigningKey): Promise<number> {
  const rows = await ctx.db.selectFrom('artifacts').select(['sha256', 'manifest_jws']).execute();
  for (const r of rows) {
    const payload = Buffer.from(r.manifest_jws.split('.')[1] ?? '', 'base64url');
    await ctx.db
      .updateTable('artifacts')
      .set({ manifest_jws: await key.signJws(payload, MANIFEST_TYP), signed_kid: key.keyId })
      .where('sha256', '=', r.sha256)
      .execute();
  }
  return rows.length;
}
