import { applyKeyStatement, KeyStatementSchema, type TrustStore, TrustStoreSchema } from '@crema/protocol';
import type { SettingsStore } from '../../store/settings';
import { trustedKeyFromPem } from './first-key';

/** Settings key of the persisted trust store (JSON, TrustStoreSchema). */
export const TRUST_STORE_KEY = 'updates.trustStore';

/** What applying a list of statements did. */
export interface TrustChange {
  store: TrustStore;
  applied: number;
  /** Statements already applied, or older than the key this device was given first. */
  skipped: number;
}

/**
 * The agent's update trust store (docs/protocol.md §15): the keys whose signatures it accepts on recipe
 * bundles and update manifests, and the key ids it refuses forever. It starts from the configured
 * `hub.publicKey`; `trust_keys` statements change it, persisted in the agent database, so a restart keeps
 * rotations and revocations. A configured key that was revoked stays refused.
 */
export class AgentTrust {
  private store: TrustStore = { keys: [], revoked: [] };

  constructor(
    private readonly settings: Pick<SettingsStore, 'get' | 'set'>,
    private readonly firstKeyPem: string | undefined,
  ) {}

  start(): void {
    const saved = TrustStoreSchema.safeParse(this.settings.get(TRUST_STORE_KEY));
    const store: TrustStore = saved.success ? saved.data : { keys: [], revoked: [] };
    if (this.firstKeyPem) {
      const first = trustedKeyFromPem(this.firstKeyPem);
      const known = store.keys.some((k) => k.kid === first.kid) || store.revoked.includes(first.kid);
      if (!known) store.keys = [...store.keys, first];
    }
    this.store = store;
  }

  /** The store as it is now; update handlers read it at each check (`() => TrustStore`). */
  current(): TrustStore {
    return this.store;
  }

  /**
   * Applies statements in order to a copy of the store and returns it; nothing changes until `commit`.
   * A statement already applied is skipped, and so is one signed by a key this device never knew that adds a
   * key it already trusts (history from before its first key). Any other refusal throws its code:
   * UPDATE_KEY_REVOKED, UPDATE_KEY_UNKNOWN, UPDATE_SIGNATURE_INVALID, CONFLICT, VALIDATION_FAILED.
   */
  async prepare(statements: readonly string[]): Promise<TrustChange> {
    let store = this.store;
    let applied = 0;
    let skipped = 0;
    for (const jws of statements) {
      const peek = peekStatement(jws);
      if (peek && (alreadyApplied(store, peek.statement) || predates(store, peek))) {
        skipped += 1;
        continue;
      }
      store = await applyKeyStatement(store, jws);
      applied += 1;
    }
    return { store, applied, skipped };
  }

  /** Persists a prepared store (inside the caller's transaction, if any) and makes it current. */
  commit(store: TrustStore): void {
    this.settings.set(TRUST_STORE_KEY, TrustStoreSchema.parse(store));
    this.store = store;
  }
}

type Peek = { kid: string; statement: ReturnType<typeof KeyStatementSchema.parse> };

/** The statement's signer and content, read without verifying (only ever used to skip, never to apply). */
function peekStatement(jws: string): Peek | undefined {
  try {
    const [h, p] = jws.split('.');
    const header = JSON.parse(Buffer.from(h ?? '', 'base64url').toString('utf8')) as { kid?: unknown };
    const statement = KeyStatementSchema.parse(
      JSON.parse(Buffer.from(p ?? '', 'base64url').toString('utf8')),
    );
    if (typeof header.kid !== 'string') return undefined;
    return { kid: header.kid, statement };
  } catch {
    return undefined;
  }
}

function alreadyApplied(store: TrustStore, s: Peek['statement']): boolean {
  const addDone =
    !s.add ||
    store.revoked.includes(s.add.kid) ||
    store.keys.some((k) => k.kid === s.add?.kid && k.jwk.x === s.add.jwk.x);
  return addDone && s.revoke.every((kid) => store.revoked.includes(kid));
}

/** Signed by a key this device never knew, adding one it already trusts: a link from before its first key. */
function predates(store: TrustStore, p: Peek): boolean {
  const signerKnown = store.keys.some((k) => k.kid === p.kid) || store.revoked.includes(p.kid);
  return (
    !signerKnown && p.statement.add !== undefined && store.keys.some((k) => k.kid === p.statement.add?.kid)
  );
}
