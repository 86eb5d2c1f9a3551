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
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
const MAX_PAYLOAD = 7_000;

export function encodeChanges(origin: string, changes: ChangeSet): string {
  const payload = JSON.stringify({
    o: origin,
    i: changes.identities,
    k: changes.apiKeyHashes,
    ...(changes.webhooks ? { w: true } : {}),
  });
  return payload.length < MAX_PAYLOAD ? payload : JSON.stringify({ o: origin, r: true });
}

export function decodeChanges(payload: string): { origin: string; changes: ChangeSet } | undefined {
  try {
    const data = JSON.parse(payload) as { o?: string; i?: [string, string][]; k?: string[]; w?: boolean; r?: boolean };
    return {
      origin: String(data.o ?? ''),
      changes: {
        identities: data.i ?? [],
        apiKeyHashes: data.k ?? [],
        webhooks: data.w === true,
        reset: data.r === true,
      },
    };
  } catch {
    return undefined;
  }
}
