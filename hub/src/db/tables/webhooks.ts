import type { Generated } from 'kysely';

/** A merchant's webhook subscription (migration 0014). */
export interface WebhookSubscriptionsTable {
  id: string;
  merchant_id: string;
  url: string;
  /** JSON array of event kinds. */
  events: string;
  /** HMAC key of its deliveries; shown once when created or rotated. */
  secret: string;
  active: Generated<number>;
  created_by: string;
  created_at: number;
  updated_at: number;
}

/** One event to deliver to one subscription, with its attempts. */
export interface WebhookDeliveriesTable {
  id: string;
  subscription_id: string;
  merchant_id: string;
  event_type: string;
  /** The exact JSON body sent (and signed). */
  payload: string;
  /** pending → delivered | failed (gave up). */
  status: string;
  attempts: Generated<number>;
  next_attempt_at: number;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

export interface WebhookTables {
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
}
