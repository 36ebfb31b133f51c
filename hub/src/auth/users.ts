import type { Clock } from '@crema/protocol';
import { ulid } from '@crema/protocol';
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/database';
import type { UsersTable } from '../db/tables/core';
import { HubError } from '../errors';
import type { Role } from '../rbac/permissions';
import type { TenantScope } from '../rbac/scope';

export type UserRow = Selectable<UsersTable>;

export interface UserView {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  merchantId: string | null;
  createdAt: number;
  updatedAt: number;
}

export function toUserView(row: UserRow): UserView {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role as Role,
    merchantId: row.merchant_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Users as the tenant scope allows: merchant admins see and change only their own merchant's users. */
export class UserRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly scope: TenantScope,
    private readonly clock: Clock,
  ) {}

  async list(page: { limit: number; offset: number }): Promise<{ items: UserRow[]; total: number }> {
    const m = this.scope.merchantId;
    const base = this.db
      .selectFrom('users')
      .$if(m !== undefined, (q) => q.where('merchant_id', '=', m ?? ''));
    const [items, count] = await Promise.all([
      base.selectAll().orderBy('email').limit(page.limit).offset(page.offset).execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(count.n) };
  }

  /** The user, or NOT_FOUND when absent or of another merchant. */
  async get(id: string, executor: Kysely<Database> = this.db): Promise<UserRow> {
    const m = this.scope.merchantId;
    const row = await executor
      .selectFrom('users')
      .selectAll()
      .where('id', '=', id)
      .$if(m !== undefined, (q) => q.where('merchant_id', '=', m ?? ''))
      .executeTakeFirst();
    if (!row) throw new HubError('NOT_FOUND', 'user not found');
    return row;
  }

  async create(
    executor: Kysely<Database>,
    input: {
      email: string;
      name: string | null;
      role: Role;
      merchantId: string | null;
      passwordHash: string;
    },
  ): Promise<UserRow> {
    const now = this.clock.now();
    const row: UserRow = {
      id: ulid(),
      merchant_id: input.merchantId,
      email: input.email.toLowerCase(),
      name: input.name,
      role: input.role,
      password_hash: input.passwordHash,
      password_changed_at: now,
      created_at: now,
      updated_at: now,
      session_version: 0,
    };
    const taken = await executor
      .selectFrom('users')
      .select('id')
      .where('email', '=', row.email)
      .executeTakeFirst();
    if (taken) throw new HubError('CONFLICT', 'a user with this email exists');
    await executor.insertInto('users').values(row).execute();
    return row;
  }

  async update(
    executor: Kysely<Database>,
    id: string,
    patch: { name?: string | null; role?: Role; passwordHash?: string },
  ): Promise<{ before: UserRow; after: UserRow }> {
    const before = await this.get(id, executor);
    const now = this.clock.now();
    const after: UserRow = {
      ...before,
      name: patch.name === undefined ? before.name : patch.name,
      role: patch.role ?? before.role,
      password_hash: patch.passwordHash ?? before.password_hash,
      password_changed_at: patch.passwordHash === undefined ? before.password_changed_at : now,
      updated_at: now,
    };
    await executor
      .updateTable('users')
      .set({
        name: after.name,
        role: after.role,
        password_hash: after.password_hash,
        password_changed_at: after.password_changed_at,
        updated_at: now,
      })
      .where('id', '=', id)
      .execute();
    return { before, after };
  }

  async delete(executor: Kysely<Database>, id: string): Promise<UserRow> {
    const before = await this.get(id, executor);
    await executor.deleteFrom('refresh_tokens').where('user_id', '=', id).execute();
    await executor.deleteFrom('users').where('id', '=', id).execute();
    return before;
  }
}

/** Unscoped lookups the login path needs before anyone is authenticated. */
export async function findUserByEmail(db: Kysely<Database>, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
}

export async function findUserById(db: Kysely<Database>, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}
