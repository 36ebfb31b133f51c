import { type Clock, ulid } from '@crema/protocol';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db/database';
import { HubError } from '../errors';
import type { Principal } from './principal';

export const LOGIN_RESULTS = ['success', 'invalid_credentials', 'throttled'] as const;
export type LoginResult = (typeof LOGIN_RESULTS)[number];

export const LoginHistoryQuerySchema = z.object({
  /** Another user's history: the platform admin only. */
  userId: z.string().max(64).optional(),
  result: z.enum(LOGIN_RESULTS).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
export type LoginHistoryQuery = z.infer<typeof LoginHistoryQuerySchema>;

export interface LoginEventView {
  id: string;
  userId: string | null;
  email: string;
  ip: string;
  result: LoginResult;
  at: number;
}

/** Login attempts as they happen (written outside any request transaction: a refused login still counts). */
export class LoginHistory {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async record(e: {
    userId: string | null;
    merchantId: string | null;
    email: string;
    ip: string;
    result: LoginResult;
  }): Promise<void> {
    await this.db
      .insertInto('login_events')
      .values({
        id: ulid(),
        user_id: e.userId,
        merchant_id: e.merchantId,
        email: e.email.toLowerCase().slice(0, 320),
        ip: e.ip.slice(0, 64),
        result: e.result,
        at: this.clock.now(),
      })
      .execute();
  }

  /**
   * The caller's own attempts, newest first; the platform admin sees everyone's (unknown accounts too) and may
   * name a user. Anyone else naming another user gets NOT_FOUND, as for any row outside their reach.
   */
  async list(
    caller: Principal,
    q: LoginHistoryQuery,
  ): Promise<{ items: LoginEventView[]; total: number; limit: number; offset: number }> {
    const platform = caller.role === 'superadmin';
    if (!platform && q.userId !== undefined && q.userId !== caller.userId)
      throw new HubError('NOT_FOUND', 'user not found');
    const userId = platform ? q.userId : caller.userId;
    let base = this.db.selectFrom('login_events');
    if (userId !== undefined) base = base.where('user_id', '=', userId);
    if (q.result) base = base.where('result', '=', q.result);
    const [rows, count] = await Promise.all([
      base.selectAll().orderBy('at', 'desc').orderBy('id', 'desc').limit(q.limit).offset(q.offset).execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    const items = rows.map((r) => ({
      id: r.id,
      userId: r.user_id,
      email: r.email,
      ip: r.ip,
      result: r.result as LoginResult,
      at: Number(r.at),
    }));
    return { items, total: Number(count.n), limit: q.limit, offset: q.offset };
  }
}
