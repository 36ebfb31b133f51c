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
import type { KeySealer } from './key-seal';

/** Where rotated private keys are kept. */
export interface KeyStorage {
  /** Sealed into `signing_keys.private_sealed`, readable by every process (`CREMA_KEY_ENCRYPTION_KEY`). */
  sealer?: KeySealer | undefined;
  /** Several processes share the store: a rotation needs a sealer, or the others could not sign. */
  shared?: boolean;
}

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
 * `CREMA_SIGNING_KEY` or `<dataDir>/signing-key.pem`; rotated keys are sealed into the store with the
 * key-encryption key (`CREMA_KEY_ENCRYPTION_KEY`) or, without one, written to `<dataDir>/signing-keys/<kid>.pem`.
 * The store records which kid is current and every signer asks it (`fresh`) before signing, so a process signs
 * with the key a rotation on any process chose, without a restart. Each change is a key statement signed by a key devices trust, kept in
 * order (`key_statements`) so that a device that missed some catches up (docs/protocol.md §15).
 */
export class SigningKeyring {
  /** Keys this process has loaded, by kid. */
  private readonly known = new Map<string, SigningKey>();
  private readonly listeners = new Set<(kid: string) => void>();

  private constructor(
    private key: SigningKey,
    private readonly dataDir: string,
    private readonly storage: KeyStorage = {},
  ) {
    this.known.set(key.keyId, key);
  }

  static async open(
    db: Kysely<Database>,
    dataDir: string,
    fromEnv: string | undefined,
    now: number,
    logger?: Logger,
    storage: KeyStorage = {},
  ): Promise<SigningKeyring> {
    const base = loadSigningKey(dataDir, fromEnv);
    const make = (key: SigningKey) => new SigningKeyring(key, dataDir, storage);
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
      return make(base);
    }
    if (current.kid === base.keyId) return make(base);
    const rotated = loadRotated(current, dataDir, storage.sealer);
    if (rotated) {
      // A key rotated before the hub had a key-encryption key: sealed now, so other processes find it too.
      if (storage.sealer && current.private_sealed === null)
        await db
          .updateTable('signing_keys')
          .set({ private_sealed: storage.sealer.seal(rotated) })
          .where('kid', '=', rotated.keyId)
          .execute();
      return make(rotated);
    }
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
      return make(base);
    }
    throw missingKey(current.kid, dataDir, 'CONFIG_INVALID');
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

  /** Takes the key a committed change chose, and tells the listeners (other processes). */
  adopt(change: KeyChange): void {
    this.key = change.next;
    this.known.set(change.next.keyId, change.next);
    for (const listener of this.listeners) listener(change.next.keyId);
  }

  /** Called with the kid after every change this process committed (`adopt`). */
  onChange(listener: (kid: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The key that is current in the store now, taken over when another process rotated it: call it before
   * signing, in the signing transaction. On PostgreSQL `lock` holds the current row until the transaction
   * ends: `share` for a signer (a rotation waits for it, so it re-signs what the signer wrote), `update` for a
   * change (two rotations on two processes happen one after the other, the second from the first's key).
   */
  async fresh(ctx: OpsContext, lock?: 'share' | 'update'): Promise<SigningKey> {
    const locking = lock !== undefined && ctx.kind === 'postgres';
    for (let attempt = 0; ; attempt++) {
      let q = ctx.db
        .selectFrom('signing_keys')
        .select(['kid', 'private_sealed'])
        .where('status', '=', 'current');
      if (locking) q = lock === 'share' ? q.forShare() : q.forUpdate();
      const row = await q.executeTakeFirst();
      // Under a lock, no row: a rotation committed while this waited; a new statement sees its key.
      if (!row && locking && attempt < 3) continue;
      // No row at all: a keyring over a given key (`of`) records it on its first change.
      if (!row || row.kid === this.key.keyId) return this.key;
      const key = this.known.get(row.kid) ?? loadRotated(row, this.dataDir, this.storage.sealer);
      if (!key) throw missingKey(row.kid, this.dataDir, 'UNAVAILABLE');
      this.known.set(key.keyId, key);
      this.key = key;
      return key;
    }
  }

  /**
   * A new key becomes current. The statement (signed by the old key) adds it and, unless `keepPrevious`,
   * revokes the old one. Stored manifests are signed again with the new key so that rollouts offer
   * manifests devices accept. Run in a transaction; `adopt` the result once it committed.
   */
  async rotate(ctx: OpsContext, actor: Actor, keepPrevious: boolean): Promise<KeyChange> {
    const old = await this.currentForChange(ctx);
    const { sealer, shared } = this.storage;
    if (!sealer && shared)
      throw new HubError(
        'UNAVAILABLE',
        'several hub processes share this store: set CREMA_KEY_ENCRYPTION_KEY (the same on every process) ' +
          'so that a rotated key reaches them all',
      );
    const next = SigningKey.generate();
    if (!sealer) {
      if (this.dataDir === '') throw new HubError('UNAVAILABLE', 'this keyring has no data directory');
      writeKeyFile(this.dataDir, next);
    }
    const now = ctx.now();
    await ctx.db
      .insertInto('signing_keys')
      .values({ ...keyRow(next, actor.userId, now), private_sealed: sealer ? sealer.seal(next) : null })
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
    const current = await this.currentForChange(ctx);
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

  /** The store's current key, locked for a change; a keyring over a given key (`of`) records it first. */
  private async currentForChange(ctx: OpsContext): Promise<SigningKey> {
    const any = await ctx.db.selectFrom('signing_keys').select('kid').limit(1).executeTakeFirst();
    if (!any)
      await ctx.db
        .insertInto('signing_keys')
        .values(keyRow(this.key, 'hub', ctx.now()))
        .execute();
    return this.fresh(ctx, 'update');
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

/** A rotated key: unsealed from its row, or read from its file; undefined when this process has neither. */
function loadRotated(
  row: { kid: string; private_sealed: string | null },
  dataDir: string,
  sealer: KeySealer | undefined,
): SigningKey | undefined {
  if (row.private_sealed !== null) {
    if (!sealer)
      throw new HubError(
        'CONFIG_INVALID',
        `signing key ${row.kid} is sealed in the store: set CREMA_KEY_ENCRYPTION_KEY as on the hub that rotated it`,
      );
    return sealer.open(row.kid, row.private_sealed);
  }
  return dataDir === '' ? undefined : readKeyFiles(dataDir).get(row.kid);
}

function missingKey(kid: string, dataDir: string, code: 'CONFIG_INVALID' | 'UNAVAILABLE'): HubError {
  return new HubError(
    code,
    `the current signing key ${kid} is not in ${dataDir}/signing-keys: copy that directory from the hub ` +
      'that rotated the key, or give every hub the same CREMA_KEY_ENCRYPTION_KEY before rotating',
  );
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
    private_sealed: null as string | null,
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
