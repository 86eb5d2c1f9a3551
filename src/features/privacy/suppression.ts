import { createHmac } from 'node:crypto';
import type { Executor } from '../../db/database.js';
import { DomainError } from '../../internal/errors.js';

/** A value that may bring an erased person back, already normalized as the service stores it. */
export type SuppressibleValue = { channel: string; external_id: string } | { email: string };

/** What a path that can bring a person back asks (suppressions.service.ts implements it). */
export interface SuppressionGuard {
  /** Throws a 409 when one of these normalized values was erased and is suppressed. */
  assertNotSuppressed(db: Executor, value: SuppressibleValue | readonly SuppressibleValue[]): Promise<void>;
}

export type SuppressionKind = 'email' | 'external_id';

export interface Suppression {
  id: string;
  kind: SuppressionKind;
  channel: string | null;
  created_at: string;
}

/**
 * The suppression hashes' key, derived from the server secret (CLAIM_CODE_SECRET, or the one kept
 * in the database): the same on every replica, and a copy of the database without the secret
 * cannot test guessed emails or phone numbers against the hashes.
 */
export const suppressionKey = (serverSecret: string) =>
  createHmac('sha256', serverSecret).update('identity-service suppression key v1').digest();

export const kindOf = (value: SuppressibleValue): SuppressionKind => ('email' in value ? 'email' : 'external_id');

export const channelOf = (value: SuppressibleValue): string | null => ('email' in value ? null : value.channel);

/** The keyed hash of one normalized value; kind and channel are part of it. */
export function suppressionHash(key: Buffer, value: SuppressibleValue): string {
  const text = 'email' in value ? `email\n\n${value.email}` : `external_id\n${value.channel}\n${value.external_id}`;
  return createHmac('sha256', key).update(text).digest('hex');
}

/** The 409's detail: names the kind of value, never the value itself (it may reach a log). */
export const suppressedDetail = (value: SuppressibleValue) =>
  'email' in value
    ? 'This email was erased and is suppressed'
    : `This ${value.channel} account was erased and is suppressed`;

/**
 * The 409 of a suppressed value. Its own class, so that a chat can tell it from other refusals
 * and answer it without saying why (see channels/link-from-chat.ts).
 */
export class SuppressedError extends DomainError {
  constructor(value: SuppressibleValue) {
    super('conflict', suppressedDetail(value));
    this.name = 'SuppressedError';
  }
}
