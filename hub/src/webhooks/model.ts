import { z } from 'zod';

/** The event kinds a merchant can subscribe to; each is a live event of the same type (operations bus). */
export const WEBHOOK_EVENTS = [
  'alarm.raised',
  'alarm.cleared',
  'order.refunded',
  'workorder.created',
  'workorder.changed',
  'rollout.halted',
] as const;
export const WebhookEventSchema = z.enum(WEBHOOK_EVENTS);
export type WebhookEvent = z.infer<typeof WebhookEventSchema>;
export const isWebhookEvent = (type: string): type is WebhookEvent =>
  (WEBHOOK_EVENTS as readonly string[]).includes(type);

/** The body every delivery carries (and signs). */
export interface WebhookPayload {
  id: string;
  type: WebhookEvent;
  merchantId: string;
  deviceId?: string;
  occurredAt: number;
  data: Record<string, unknown>;
}

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface SubscriptionView {
  id: string;
  merchantId: string;
  url: string;
  events: WebhookEvent[];
  active: boolean;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export interface DeliveryView {
  id: string;
  subscriptionId: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
}
