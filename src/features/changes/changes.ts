import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** Who made a change: an API key, or a named actor without one (the command line, a chat webhook). */
export interface Actor {
  keyId: string | null;
  name: string;
}

export const cliActor: Actor = { keyId: null, name: 'cli' };

export interface AuditEntry {
  action: string;
  customerId?: string | null | undefined;
  identityId?: string | null | undefined;
  before?: unknown;
  after?: unknown;
  /**
   * Not written to the audit trail: the resources a batch created (the import), built only when a
   * webhook subscription wants their events.
   */
  created?: () => { customers: unknown[]; identities: unknown[] };
  /**
   * Not written to the audit trail: what the change's events carry besides `after` (the identity
   * an approved link request made), so that the trail keeps one resource per entry.
   */
  eventData?: Record<string, unknown>;
  /** Who vouched for the change when it is not the actor's own word: 'platform' (a chat platform's signed message). */
  source?: string | undefined;
}

/** What a committed change makes stale; caches subscribe to it. */
export interface ChangeSet {
  identities: [channel: string, externalId: string][];
  apiKeyHashes: string[];
  /** Webhook subscriptions changed: which event types are wanted must be read again. */
  webhooks?: boolean;
  /** Everything may be stale (a notification was lost or too big to send). */
  reset?: boolean;
}

export type ChangeSubscriber = (changes: ChangeSet) => void;

/** Fans committed changes out to this process's caches. */
export class ChangeHub {
  readonly #subscribers = new Set<ChangeSubscriber>();

  subscribe(subscriber: ChangeSubscriber): () => void {
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }

  publish(changes: ChangeSet) {
    for (const subscriber of this.#subscribers) subscriber(changes);
  }
}

export const NOTIFY_CHANNEL = 'identity_service_changes';
/**
 * PostgreSQL refuses NOTIFY payloads of 8000 bytes or more (bytes in the server's encoding, UTF-8
 * here, not UTF-16 characters: a CJK character is three). Beyond this, a "reset everything" notice.
 */
const MAX_PAYLOAD_BYTES = 7_000;

export function encodeChanges(origin: string, changes: ChangeSet): string {
  const payload = JSON.stringify({
    o: origin,
    i: changes.identities,
    k: changes.apiKeyHashes,
    ...(changes.webhooks ? { w: true } : {}),
  });
  return Buffer.byteLength(payload, 'utf8') < MAX_PAYLOAD_BYTES ? payload : JSON.stringify({ o: origin, r: true });
}

/**
 * The shape every replica sends. Anyone who can connect to the database can NOTIFY this channel,
 * so a payload is trusted only once it has this shape (extra fields are ignored, so that a newer
 * replica may add some during a rolling upgrade).
 */
const ChangeNotice = Type.Object({
  o: Type.String(),
  i: Type.Optional(Type.Array(Type.Tuple([Type.String(), Type.String()]))),
  k: Type.Optional(Type.Array(Type.String())),
  w: Type.Optional(Type.Boolean()),
  r: Type.Optional(Type.Boolean()),
});

/** A notification's payload as sent by encodeChanges, or undefined for anything else (never throws). */
export function decodeChanges(payload: string): { origin: string; changes: ChangeSet } | undefined {
  let data: unknown;
  try {
    data = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (!Value.Check(ChangeNotice, data)) return undefined;
  return {
    origin: data.o,
    changes: {
      identities: data.i ?? [],
      apiKeyHashes: data.k ?? [],
      reset: data.r === true,
      ...(data.w === true ? { webhooks: true } : {}),
    },
  };
}
