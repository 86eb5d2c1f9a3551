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
  metadata: Metadata;
  created_at: string;
  updated_at: string;
}

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
  channels: { telegram: boolean; slack: boolean; whatsapp: boolean };
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
