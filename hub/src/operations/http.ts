import type { Context } from 'hono';
import { auditActor } from '../api/audit-context';
import type { ApiDeps } from '../api/deps';
import type { HubEnv } from '../api/env';
import type { AuditEntry } from '../audit/log';
import { TenantScope } from '../rbac/scope';
import { enqueueWebhooks } from '../webhooks/service';
import type { Actor, OpsContext } from './context';
import type { OpsEvent } from './events/bus';
import { withTransaction } from './shared/tx';

/** What an operations change records: its audit entries and the live events sent after the commit. */
export interface Outcome<T> {
  result: T;
  audit: Omit<AuditEntry, 'actor' | 'ip'>[];
  events?: Omit<OpsEvent, 'at'>[];
}

/** The request's caller as the operations services see it. */
export function callerOf(c: Context<HubEnv>): { scope: TenantScope; actor: Actor } {
  const principal = c.get('principal');
  return { scope: new TenantScope(principal), actor: { userId: principal.userId } };
}

/**
 * Runs a state change, its audit records and its webhook deliveries in one transaction (all commit or none),
 * then publishes its live events.
 */
export async function mutate<T>(
  c: Context<HubEnv>,
  deps: ApiDeps,
  change: (ctx: OpsContext) => Promise<Outcome<T>>,
): Promise<T> {
  const ops = deps.operations;
  const outcome = await withTransaction(ops.ctx, async (txCtx) => {
    const out = await change(txCtx);
    for (const entry of out.audit) await deps.audit.record(txCtx.db, { ...auditActor(c), ...entry });
    // Webhook deliveries are queued in the same transaction: the change and its notification commit together.
    await enqueueWebhooks(txCtx.db, txCtx, out.events ?? []);
    return out;
  });
  const at = ops.ctx.now();
  for (const e of outcome.events ?? []) ops.bus.publish({ ...e, at });
  return outcome.result;
}

/** Streams text chunks from an async generator as a response body, pulling only as fast as the client reads. */
export function textStream(chunks: AsyncGenerator<string>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
}
