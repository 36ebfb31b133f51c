import type { Readable } from 'node:stream';
import type { Selectable } from 'kysely';
import type { WorkOrderAttachmentsTable } from '../../db/tables/workorders';
import { HubError } from '../../errors';
import type { ArtifactStore } from '../../updates/artifacts/store';
import type { Actor, OpsContext, Scope } from '../context';
import { type AttachmentType, EXTENSIONS, typedStream } from './file-type';

export interface AttachmentLimits {
  /** Largest file, refused while it streams in (CREMA_ATTACHMENT_MAX_BYTES). */
  maxBytes: number;
  /** Files one work order may hold. */
  maxCount: number;
}

export const DEFAULT_ATTACHMENT_LIMITS: AttachmentLimits = { maxBytes: 10 * 1024 * 1024, maxCount: 20 };

/** The artifact store's space for attachment bytes (its own addresses: see ArtifactStore.namespace). */
export const ATTACHMENT_NAMESPACE = 'attachments';

export interface Attachment {
  id: string;
  workOrderId: string;
  merchantId: string;
  fileName: string;
  contentType: AttachmentType;
  size: number;
  sha256: string;
  createdBy: string;
  createdAt: number;
}

export interface ReceivedFile {
  sha256: string;
  size: number;
  contentType: AttachmentType;
}

/**
 * Photos and manuals on work orders. The bytes stream into the artifact store while their type is judged
 * from the first bytes and their size counted, so a wrong or oversized file is refused before it is all read;
 * the row is written afterwards, in the caller's transaction. Same bytes on two orders share one blob, which
 * goes when the last row naming it does.
 */
export class AttachmentService {
  constructor(
    private readonly ctx: OpsContext,
    private readonly store: ArtifactStore,
    readonly limits: AttachmentLimits = DEFAULT_ATTACHMENT_LIMITS,
  ) {}

  /** Refuses early what the row would refuse later: an order the caller cannot see, closed, or full. */
  async checkRoom(scope: Scope, workOrderId: string): Promise<{ merchantId: string }> {
    const wo = await this.workOrder(scope, workOrderId);
    if (wo.status === 'closed')
      throw new HubError('INVALID_TRANSITION', 'a closed work order takes no attachments');
    const n = await this.ctx.db
      .selectFrom('work_order_attachments')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('work_order_id', '=', workOrderId)
      .executeTakeFirstOrThrow();
    if (Number(n.n) >= this.limits.maxCount)
      throw new HubError(
        'ATTACHMENT_LIMIT_REACHED',
        `a work order holds at most ${this.limits.maxCount} attachments`,
      );
    return { merchantId: wo.merchant_id };
  }

  /** Streams the bytes into the store; nothing stays when the type or size is refused. */
  async receive(bytes: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<ReceivedFile> {
    const typed = typedStream(bytes);
    const stored = await this.store.put(typed.stream, { maxBytes: this.limits.maxBytes });
    return { ...stored, contentType: typed.type() };
  }

  /** The row for a received file; run in the audit's transaction (checkRoom again: uploads may race). */
  async record(
    scope: Scope,
    actor: Actor,
    workOrderId: string,
    fileName: string | undefined,
    file: ReceivedFile,
  ): Promise<Attachment> {
    const { merchantId } = await this.checkRoom(scope, workOrderId);
    const row: Selectable<WorkOrderAttachmentsTable> = {
      id: this.ctx.newId(),
      work_order_id: workOrderId,
      merchant_id: merchantId,
      file_name: safeFileName(fileName, file.contentType),
      content_type: file.contentType,
      size: file.size,
      sha256: file.sha256,
      created_by: actor.userId,
      created_at: this.ctx.now(),
    };
    await this.ctx.db.insertInto('work_order_attachments').values(row).execute();
    return toAttachment(row);
  }

  async list(scope: Scope, workOrderId: string): Promise<Attachment[]> {
    await this.workOrder(scope, workOrderId);
    const rows = await this.ctx.db
      .selectFrom('work_order_attachments')
      .selectAll()
      .where('work_order_id', '=', workOrderId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toAttachment);
  }

  async get(scope: Scope, workOrderId: string, id: string): Promise<Attachment> {
    await this.workOrder(scope, workOrderId);
    const row = await this.ctx.db
      .selectFrom('work_order_attachments')
      .selectAll()
      .where('id', '=', id)
      .where('work_order_id', '=', workOrderId)
      .executeTakeFirst();
    if (!row) throw new HubError('NOT_FOUND', `attachment ${id} not found`);
    return toAttachment(row);
  }

  async open(
    scope: Scope,
    workOrderId: string,
    id: string,
  ): Promise<{ attachment: Attachment; body: Readable }> {
    const attachment = await this.get(scope, workOrderId, id);
    const body = await this.store.read(attachment.sha256);
    if (!body) throw new HubError('NOT_FOUND', `the file of attachment ${id} is missing`);
    return { attachment, body };
  }

  /** Deletes the row (in the caller's transaction); `forget` the bytes after the commit. */
  async delete(scope: Scope, workOrderId: string, id: string): Promise<Attachment> {
    const before = await this.get(scope, workOrderId, id);
    await this.ctx.db.deleteFrom('work_order_attachments').where('id', '=', id).execute();
    return before;
  }

  /** Removes the bytes when no attachment names them any more. */
  async forget(sha256: string): Promise<void> {
    const used = await this.ctx.db
      .selectFrom('work_order_attachments')
      .select('id')
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    if (!used) await this.store.delete(sha256);
  }

  private async workOrder(scope: Scope, id: string) {
    let q = this.ctx.db
      .selectFrom('work_orders')
      .select(['id', 'merchant_id', 'status'])
      .where('id', '=', id);
    if (scope.merchantId !== undefined) q = q.where('merchant_id', '=', scope.merchantId);
    const wo = await q.executeTakeFirst();
    if (!wo) throw new HubError('NOT_FOUND', `work order ${id} not found`);
    return wo;
  }
}

/**
 * A file name fit for display and a download header: the last path segment, no control or quote characters,
 * at most 120 characters, and the extension of the type the bytes are (a `.html` name cannot stick to a PNG).
 */
export function safeFileName(name: string | undefined, type: AttachmentType): string {
  const ext = EXTENSIONS[type];
  const base = (name ?? '')
    .split(/[\\/]/)
    .pop()
    ?.replace(/[\p{Cc}"\\]/gu, '')
    .trim()
    .replace(/\.[^.]*$/, '')
    .slice(0, 120 - ext.length);
  return `${base || 'attachment'}${ext}`;
}

function toAttachment(r: Selectable<WorkOrderAttachmentsTable>): Attachment {
  return {
    id: r.id,
    workOrderId: r.work_order_id,
    merchantId: r.merchant_id,
    fileName: r.file_name,
    contentType: r.content_type as AttachmentType,
    size: Number(r.size),
    sha256: r.sha256,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
  };
}
