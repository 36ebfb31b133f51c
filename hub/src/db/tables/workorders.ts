/** Files attached to work orders (migration 0018); the bytes live in the artifact store's `attachments` space. */
export interface WorkOrderAttachmentsTable {
  id: string;
  work_order_id: string;
  merchant_id: string;
  /** The uploader's file name, for display and the download's Content-Disposition only. */
  file_name: string;
  /** Decided from the bytes (magic numbers), never from the name or the declared type. */
  content_type: string;
  size: number;
  sha256: string;
  created_by: string;
  created_at: number;
}

export interface WorkOrderTables {
  work_order_attachments: WorkOrderAttachmentsTable;
}
