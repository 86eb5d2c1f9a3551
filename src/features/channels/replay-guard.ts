import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import { mapDbError } from '../../db/errors.js';
import type { Clock } from '../../internal/clock.js';
import { deleteExpiredUpdates, recordUpdate } from './processed-updates.repository.js';
import type { ChatChannel } from './redeem-from-chat.js';

const HOUR_MS = 3_600_000;

/**
 * How long an update is remembered: longer than the platform may redeliver it. Telegram keeps an
 * unanswered update for 24 hours; Meta retries a webhook for up to 7 days; Slack's and Discord's
 * signatures are refused after 5 minutes, so a replay older than that never gets this far.
 */
export const REMEMBER_MS: Record<ChatChannel, number> = {
  telegram: 48 * HOUR_MS,
  whatsapp: 8 * 24 * HOUR_MS,
  slack: 1 * HOUR_MS,
  // Discord does not redeliver an interaction; a replay needs a signature under 5 minutes old.
  discord: 1 * HOUR_MS,
};

/** Expired records are deleted at most this often, in the background of a new record. */
const PRUNE_EVERY_MS = 10 * 60_000;
/** Longer keys (none of the platforms' own) are stored as their digest. */
const MAX_KEY_LENGTH = 200;

export type ReplayGuard = ReturnType<typeof createReplayGuard>;

/**
 * Remembers which chat updates were handled, in the database (shared by every replica), so that a
 * redelivered or replayed `/claim WRONG` neither burns another attempt on the code nor is answered
 * twice. An update is recorded before it is handled: of two deliveries at once, exactly one goes
 * on; a crash in between loses that one message (the person sends it again) rather than acting on
 * it twice.
 */
export function createReplayGuard(deps: {
  db: Kysely<Database>;
  clock: Clock;
  onBackgroundError: (error: unknown) => void;
}) {
  const { db, clock } = deps;
  let prunedAt = Number.NEGATIVE_INFINITY;
  /** Deliveries of an update handled before, since start, for /metrics. */
  const redelivered: Record<ChatChannel, number> = { telegram: 0, whatsapp: 0, slack: 0, discord: 0 };

  function prune(now: Date) {
    if (now.getTime() - prunedAt < PRUNE_EVERY_MS) return;
    prunedAt = now.getTime();
    deleteExpiredUpdates(db, now.toISOString()).catch(deps.onBackgroundError);
  }

  return {
    redelivered,
    /** True the first time an update is seen, false for a redelivery; throws when the database does not answer. */
    async firstDelivery(channel: ChatChannel, key: string): Promise<boolean> {
      const now = clock.now();
      const updateKey = key.length > MAX_KEY_LENGTH ? `sha256:${createHash('sha256').update(key).digest('hex')}` : key;
      const first = await mapDbError(() =>
        recordUpdate(db, {
          channel,
          update_key: updateKey,
          processed_at: now.toISOString(),
          expires_at: new Date(now.getTime() + REMEMBER_MS[channel]).toISOString(),
        }),
      );
      prune(now);
      if (!first) redelivered[channel]++;
      return first;
    },
  };
}

/**
 * Whether this update was handled before. When the database does not answer, it is handled as
 * new (the claim that follows then answers "try again" on its own): a lost record must not
 * silence the bot.
 */
export async function handledBefore(
  guard: ReplayGuard,
  log: { warn(object: object, message: string): void },
  channel: ChatChannel,
  key: string,
): Promise<boolean> {
  try {
    return !(await guard.firstDelivery(channel, key));
  } catch (error) {
    log.warn({ err: error, channel }, 'could not record a chat update');
    return false;
  }
}
