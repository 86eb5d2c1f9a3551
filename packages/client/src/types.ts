/**
 * The API's bodies, as the service sends them (see /openapi.json): the one definition of each
 * resource's shape. The service's TypeBox schemas are checked against these when it compiles
 * (src/http/schemas/client-types.ts), and the dashboard uses them.
 */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type Metadata = { [key: string]: Json };

export interface Customer {
  id: string;
  email: string;
  name: string | null;
  metadata: Metadata;
  created_at: string;
  updated_at: string;
}

export interface Identity {
  id: string;
  customer_id: string;
  channel: string;
  external_id: string;
  /** null: the identity counts for every instance. */
  instance_id: string | null;
  display_name: string | null;
  role_override: string | null;
  verified: boolean;
  verified_at: string | null;
  /** How the link was proven; null while unverified. */
  verified_via: VerifiedVia | null;
  /** Other external ids of the same account on this channel (a WhatsApp BSUID beside the number, …). */
  aliases: string[];
  metadata: Metadata;
  created_at: string;
  updated_at: string;
}

/**
 * operator: an admin said so; claim_code: the person redeemed a code; platform: the chat platform
 * vouched for it; link_request: an operator typed in the code the account's person was given;
 * linked_identity: the person added it from another account of theirs that was verified.
 */
export type VerifiedVia = 'operator' | 'claim_code' | 'platform' | 'link_request' | 'linked_identity';

/** The reverse lookup's body: who owns a channel identity. */
export interface LookupResult {
  channel: string;
  customer_email: string;
  customer_id: string;
  display_name: string | null;
  external_id: string;
  identity_id: string;
  role_override: string | null;
  verified: boolean;
  verified_via: VerifiedVia | null;
}

export interface ClaimCode {
  code: string;
  expires_in_seconds: number;
  identity_id: string;
  instructions: string;
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last one. */
  next_cursor: string | null;
}

export interface ServiceInfo {
  /** The service's version (since 0.2.0). */
  version: string;
  claim_code_ttl_seconds: number;
  telegram_bot_username: string | null;
  /** Which chat webhooks are on. */
  channels: { telegram: boolean; slack: boolean; whatsapp: boolean; discord: boolean };
}

/** Which identity: `channel` and `external_id` are normalized by the service (trim, case, E.164). */
export interface IdentityKey {
  channel: string;
  external_id: string;
  /** With it, the identity scoped to that instance wins, else the unscoped one. */
  instance_id?: string | undefined;
}

export interface ClaimInput extends Omit<IdentityKey, 'instance_id'> {
  code: string;
  instance_id?: string | null | undefined;
}

export interface CustomerInput {
  email: string;
  name?: string | null;
  metadata?: Metadata;
}

export type CustomerPatch = Partial<CustomerInput>;

export interface CustomerQuery {
  email?: string;
  q?: string;
  limit?: number;
  cursor?: string;
}

export interface IdentityInput {
  channel: string;
  external_id: string;
  instance_id?: string | null;
  role_override?: string | null;
  display_name?: string | null;
  metadata?: Metadata;
}

export interface IdentityPatch {
  display_name?: string | null;
  verified?: boolean;
  metadata?: Metadata;
  role_override?: string | null;
}

/** One item of a 422's `detail` (FastAPI's shape). */
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
  input?: unknown;
  ctx?: Record<string, unknown>;
}

export interface MoveInput {
  /** The customer the identity goes to. */
  customer_id: string;
  /** Keep verified, verified_via and role_override; by default it arrives unverified, without a role. */
  keep_verification?: boolean;
}

/** What a merge would do (dry run): nothing is written. */
export interface MergePreview {
  target: Customer;
  source: Customer;
  /** The target as the merge would leave it. */
  result: Customer;
  identities_to_move: Identity[];
}

export interface MergeResult {
  merge_id: string;
  target: Customer;
  moved_identity_ids: string[];
  merged_at: string;
}

export interface Merge {
  merge_id: string;
  target_customer_id: string;
  source_customer_id: string;
  merged_at: string;
  undone_at: string | null;
}

export interface UndoResult {
  /** The source customer, back with its own id, email, name, metadata and created_at. */
  source: Customer;
  moved_back_identity_ids: string[];
}

/** Everything held about one person (`GET /v1/customers/{id}/export`). */
export interface CustomerExport {
  exported_at: string;
  customer: Customer;
  identities: Identity[];
  /** The link requests approved onto the customer and every request of its accounts (never a code). */
  link_requests: LinkRequest[];
  merges: (Merge & { source_customer: Customer; moved_identity_ids: string[] })[];
  /** Audit entries about the customer, the customers merged into it, or its identities. */
  audit: Record<string, unknown>[];
  webhook_events: {
    id: string;
    type: string;
    created_at: string;
    /** The body as sent. */
    body: unknown;
    deliveries: { subscription_id: string; status: string; attempts: number; created_at: string; updated_at: string }[];
  }[];
}

export interface Erasure {
  customer_id: string;
  erased_at: string;
  identity_ids: string[];
  /** How many values (emails, accounts) were suppressed. */
  suppressed: number;
}

export interface Suppression {
  id: string;
  kind: 'email' | 'external_id';
  /** The channel of an external id; null for an email. */
  channel: string | null;
  created_at: string;
}

/** A value to lift: as typed, normalized by the service. */
export type SuppressedValue = { email: string } | { channel: string; external_id: string };

/** Who has a channel identity already (in a 409 because of it). */
export interface ConflictWith {
  customer_id: string;
  identity_id: string;
}

/** pending until decided; expired once its expires_at has passed undecided. */
export type LinkRequestStatus = 'pending' | 'approved' | 'rejected' | 'expired';

/** A stranger's account asking to be linked (never with its code). */
export interface LinkRequest {
  id: string;
  channel: string;
  external_id: string;
  instance_id: string | null;
  display_name: string | null;
  status: LinkRequestStatus;
  created_at: string;
  expires_at: string;
  /** The last three are null until the request is decided. */
  decided_at: string | null;
  customer_id: string | null;
  identity_id: string | null;
}

/** A request as made or renewed: the code is shown only here. */
export interface IssuedLinkRequest extends LinkRequest {
  /** 8 characters; whoever approves types it in (case, spaces and hyphens ignored). */
  code: string;
  /** What the person is to do with the code. */
  instructions: string;
}

export interface LinkRequestInput {
  channel: string;
  external_id: string;
  instance_id?: string | null;
  display_name?: string | null;
}

export interface LinkRequestQuery {
  status?: LinkRequestStatus;
  channel?: string;
  limit?: number;
  cursor?: string;
}

/** Who the account goes to: an existing customer, or a new one made from `customer`. */
export type LinkRequestDecision = (
  | { customer_id: string; customer?: undefined }
  | { customer: CustomerInput; customer_id?: undefined }
) & { role_override?: string | null };

export interface LinkRequestApproval {
  link_request: LinkRequest;
  identity: Identity;
}

/** The sender (a verified account of the person) and the code of the request to link. */
export interface LinkWithCodeInput extends Omit<IdentityKey, 'instance_id'> {
  code: string;
  instance_id?: string | null | undefined;
}
