import { type Command, type CommandKind, CommandSchema, type CommandStatus } from '@crema/protocol';
import type { Selectable } from 'kysely';
import type { CommandsTable } from '../db/tables/operations';
import { HubError } from '../errors';

/** A command as the API shows it. */
export interface CommandView {
  id: string;
  merchantId: string;
  deviceId: string;
  batchId: string | null;
  kind: CommandKind;
  params: Record<string, unknown>;
  status: CommandStatus;
  issuedAt: number;
  expiresAt: number;
  deliveredAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
  result: { code: string | null; message: string | null; output: Record<string, unknown> | null } | null;
  retryOf: string | null;
  createdBy: string;
}

export function toCommandView(r: Selectable<CommandsTable>): CommandView {
  const hasResult = r.result_code !== null || r.result_message !== null || r.output !== null;
  return {
    id: r.id,
    merchantId: r.merchant_id,
    deviceId: r.device_id,
    batchId: r.batch_id,
    kind: r.kind as CommandKind,
    params: JSON.parse(r.params) as Record<string, unknown>,
    status: r.status as CommandStatus,
    issuedAt: r.issued_at,
    expiresAt: r.expires_at,
    deliveredAt: r.delivered_at,
    finishedAt: r.finished_at,
    updatedAt: r.updated_at,
    result: hasResult
      ? {
          code: r.result_code,
          message: r.result_message,
          output: r.output === null ? null : (JSON.parse(r.output) as Record<string, unknown>),
        }
      : null,
    retryOf: r.retry_of,
    createdBy: r.created_by,
  };
}

/** The wire form a device receives (the protocol's CommandSchema). */
export function toWireCommand(r: Selectable<CommandsTable>): Command {
  return CommandSchema.parse({
    commandId: r.id,
    idempotencyKey: r.idempotency_key,
    issuedAt: r.issued_at,
    expiresAt: r.expires_at,
    kind: r.kind,
    params: JSON.parse(r.params),
  });
}

/**
 * Validates kind + params with the protocol schema, so nothing a device would refuse is ever queued.
 * Returns the params with the schema's defaults applied.
 */
export function validateCommand(kind: string, params: unknown, issuedAt: number, expiresAt: number) {
  const parsed = CommandSchema.safeParse({
    commandId: 'validation',
    idempotencyKey: 'validation',
    issuedAt,
    expiresAt,
    kind,
    params: params ?? {},
  });
  if (!parsed.success) {
    throw new HubError('VALIDATION_FAILED', `invalid ${kind} command`, { details: parsed.error });
  }
  return { kind: parsed.data.kind, params: parsed.data.params as Record<string, unknown> };
}
