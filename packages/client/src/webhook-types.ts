import type { Customer, Identity, LinkRequest } from './types.js';

/** Every event type a webhook subscription can ask for, in the order the service lists them. */
export const WEBHOOK_EVENT_TYPES = [
  'customer.created',
  'customer.updated',
  'customer.deleted',
  'customer.merged',
  'customer.unmerged',
  'customer.erased',
  'identity.linked',
  'identity.updated',
  'identity.verified',
  'identity.unverified',
  'identity.moved',
  'identity.unlinked',
  'identity.alias_added',
  'identity.alias_removed',
  'claim.redeemed',
  'link_request.created',
  'link_request.approved',
  'link_request.rejected',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What each event type's `data` holds: the resources after the change. */
export interface WebhookEventData {
  'customer.created': { customer: Customer };
  'customer.updated': { customer: Customer };
  /** The customer as it was; its identities went with it. */
  'customer.deleted': { customer: Customer };
  'customer.merged': {
    merge_id: string;
    /** The target, after the merge. */
    customer: Customer;
    /** The source, as it was before it was merged away. */
    source_customer: Customer;
    target_customer_id: string;
    source_customer_id: string;
    moved_identity_ids: string[];
  };
  'customer.unmerged': {
    merge_id: string;
    /** The source customer, back again. */
    customer: Customer;
    source_customer_id: string;
    target_customer_id: string;
    moved_back_identity_ids: string[];
  };
  /** Ids only: the person's data is gone; forget what you hold about these ids. */
  'customer.erased': { customer_id: string; identity_ids: string[]; erased_at: string };
  'identity.linked': { identity: Identity };
  'identity.updated': { identity: Identity };
  'identity.verified': { identity: Identity };
  'identity.unverified': { identity: Identity };
  'identity.moved': { identity: Identity; from_customer_id: string; to_customer_id: string };
  /** The identity as it was when it was unlinked. */
  'identity.unlinked': { identity: Identity };
  'identity.alias_added': { identity: Identity; alias: string | null };
  'identity.alias_removed': { identity: Identity; alias: string | null };
  'claim.redeemed': { identity: Identity };
  /** A new request (not a renewal of a pending one). */
  'link_request.created': { link_request: LinkRequest };
  /** The identity the approval linked: verified by a code, unverified by an operator's approval. */
  'link_request.approved': { link_request: LinkRequest; identity: Identity };
  'link_request.rejected': { link_request: LinkRequest };
}

/** A webhook's body, narrowed by `type`. */
export type WebhookEvent = {
  [T in WebhookEventType]: { id: string; type: T; created_at: string; data: WebhookEventData[T] };
}[WebhookEventType];

export interface Webhook {
  id: string;
  url: string;
  events: (WebhookEventType | '*')[];
  description: string | null;
  enabled: boolean;
  created_at: string;
}

/** Returned on create and rotation only: `secret` is shown nowhere else. */
export interface WebhookWithSecret extends Webhook {
  secret: string;
}

export interface WebhookInput {
  url: string;
  events: (WebhookEventType | '*')[];
  description?: string | null;
  enabled?: boolean;
}

export type WebhookPatch = Partial<WebhookInput>;

export interface WebhookDeliveryAttempt {
  event_id: string;
  type: WebhookEventType;
  attempt: number;
  status_code: number | null;
  error: string | null;
  at: string;
  delivery_status: 'pending' | 'delivered' | 'failed' | null;
}
