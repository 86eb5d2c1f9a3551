/** The API's resources, as CONTRACT.md and the route schemas describe them. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Customer {
  id: string;
  email: string;
  name: string | null;
  metadata: JsonObject;
  created_at: string;
  updated_at: string;
}

export interface Identity {
  id: string;
  customer_id: string;
  channel: string;
  external_id: string;
  instance_id: string | null;
  display_name: string | null;
  role_override: string | null;
  verified: boolean;
  verified_at: string | null;
  metadata: JsonObject;
  created_at: string;
  updated_at: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface ClaimCode {
  code: string;
  expires_in_seconds: number;
  identity_id: string;
  instructions: string;
}

export interface ServiceInfo {
  claim_code_ttl_seconds: number;
  telegram_bot_username: string | null;
  channels: { telegram: boolean; slack: boolean; whatsapp: boolean };
}

export interface AuditEvent {
  id: string;
  at: string;
  actor_key_id: string | null;
  actor: string;
  action: string;
  customer_id: string | null;
  identity_id: string | null;
  before: Json;
  after: Json;
}

export interface ValidationItem {
  loc: (string | number)[];
  msg: string;
  type: string;
}
