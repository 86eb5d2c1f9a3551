import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import type { Clock } from '../../internal/clock.js';
import type { ChatNoticeRow } from '../link-requests/link-requests.table.js';
import { createPoller } from '../shared/poller.js';
import {
  claimNotice,
  findDueNotices,
  giveUpLapsed,
  lapsedNotices,
  pruneNotices,
  settleNotice,
} from './chat-notices.repository.js';
import { addressOf, type ChatAddress } from './chat-reply-to.js';
import { type DiscordSettings, sendDiscordDirectMessage } from './discord-api.js';
import { linkReplies } from './link-replies.js';
import { NotConfiguredError, PLATFORM_TIMEOUT_MS, PlatformCallError } from './platform-call.js';
import { postSlackMessage, type SlackApiSettings } from './slack-api.js';
import { sendTelegramMessage, type TelegramApiSettings } from './telegram-api.js';
import { sendWhatsAppText, type WhatsAppSettings } from './whatsapp-api.js';

export interface ChatSenders {
  telegram: TelegramApiSettings;
  whatsapp: WhatsAppSettings;
  slack: SlackApiSettings;
  discord: DiscordSettings;
}

export interface ChatNoticeOptions {
  /** How often the outbox is read when nothing woke the loop (other replicas' decisions, retries). */
  pollIntervalMs: number;
  /** Sent and given-up notices are deleted this long after (ms). */
  retentionMs: number;
  /** Notices sent at once. */
  concurrency?: number;
}

/**
 * Seconds to wait after a failed attempt, by attempts made so far: 10 s, 1 min, 5 min, 30 min,
 * 1 h; when the sixth attempt (about 1 h 36 min after the first) fails too, the notice is given
 * up. A notice tells of a decision the person is waiting for: a day late, it tells them little.
 */
export const NOTICE_RETRY_SECONDS = [10, 60, 300, 1_800, 3_600] as const;

/** A lease outlives the longest attempt (Discord's two calls, each cut off at the timeout). */
const LEASE_MS = 2 * PLATFORM_TIMEOUT_MS + 40_000;
const PRUNE_EVERY_MS = 10 * 60_000;
const DEFAULT_CONCURRENCY = 8;

export type NoticeOutcome = 'sent' | 'retrying' | 'failed';
const CHANNELS = ['telegram', 'whatsapp', 'slack', 'discord'] as const;

/** Why an attempt failed, and what follows: another attempt, or none. */
interface Failure {
  error: string;
  /** HTTP status when the platform answered. */
  status: number | undefined;
  /** The platform said no and will say so again (a blocked bot, an unknown chat), or nobody can send. */
  final: boolean;
  /** Nobody knows whether the message went out (no answer in time): never sent again. */
  unknown: boolean;
}

function failureOf(error: unknown): Failure {
  if (error instanceof NotConfiguredError)
    return { error: error.message, status: undefined, final: true, unknown: false };
  if (error instanceof PlatformCallError) {
    const { status } = error;
    // 408, 429 and 5xx pass; any other answer stands. No answer at all (refused, unresolved): not sent.
    const passes = status === undefined || status === 408 || status === 429 || status >= 500;
    return { error: error.message, status, final: !passes, unknown: error.timedOut };
  }
  return {
    error: error instanceof Error ? error.name : 'unknown error',
    status: undefined,
    final: false,
    unknown: false,
  };
}

/**
 * Delivers chat notices: the message that tells a person on their chat that the link request they
 * made there was approved or rejected. The notice was written in the decision's transaction
 * (link-requests/chat-notices.ts), so it exists exactly when the decision does.
 *
 * At least once, never twice. A notice is taken for an attempt by a compare-and-set in the
 * database (`claimNotice`: counts the attempt and leases the row), so that of several replicas
 * exactly one sends it; the outcome is written right after the send. A platform that answered
 * with an error did not deliver: the notice is tried again later (at least once). What is never
 * done is to send again when nobody knows whether the first attempt went out: a send that got no
 * answer in time, or a sender that died (or lost its database) between the send and its record,
 * which shows as a lease run out with the attempt unrecorded. Such a notice is given up and
 * logged instead: a person told twice is worse than a person who asks again.
 */
export function createChatNoticeDispatcher(deps: {
  db: Kysely<Database>;
  clock: Clock;
  senders: ChatSenders;
  options: ChatNoticeOptions;
  log: { warn(object: object, message: string): void };
}) {
  const { db, clock, senders, options } = deps;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  /** Attempts by channel and outcome since start, for /metrics. */
  const outcomes = Object.fromEntries(
    CHANNELS.map((channel) => [channel, { sent: 0, retrying: 0, failed: 0 } as Record<NoticeOutcome, number>]),
  ) as Record<(typeof CHANNELS)[number], Record<NoticeOutcome, number>>;
  const count = (channel: string, outcome: NoticeOutcome) => {
    const row = outcomes[channel as (typeof CHANNELS)[number]];
    if (row) row[outcome]++;
  };
  let lastPrune = Number.NEGATIVE_INFINITY;

  async function send(address: ChatAddress, text: string): Promise<void> {
    switch (address.channel) {
      case 'telegram':
        return sendTelegramMessage(senders.telegram, { chatId: address.chatId, text });
      case 'whatsapp':
        return sendWhatsAppText(senders.whatsapp, {
          phoneNumberId: address.phoneNumberId,
          recipient: address.recipient,
          text,
        });
      case 'slack':
        return postSlackMessage(senders.slack, { userId: address.userId, text });
      case 'discord':
        return sendDiscordDirectMessage(senders.discord, { recipientId: address.userId, text });
    }
  }

  /** Who was told what, for the log: ids, the channel and the kind; never an address or a text. */
  const about = (notice: Pick<ChatNoticeRow, 'id' | 'link_request_id' | 'channel' | 'kind'>) => ({
    notice_id: notice.id,
    link_request_id: notice.link_request_id,
    channel: notice.channel,
    kind: notice.kind,
  });

  async function attempt(notice: ChatNoticeRow, attemptNumber: number): Promise<void> {
    const address = addressOf(notice.channel, notice.reply_to);
    let failure: Failure | undefined;
    if (!address) {
      failure = { error: 'no address to send to', status: undefined, final: true, unknown: false };
    } else {
      const text =
        notice.kind === 'link_request.approved' ? linkReplies.approved(notice.channel) : linkReplies.rejected();
      try {
        await send(address, text);
      } catch (error) {
        failure = failureOf(error);
      }
    }
    const now = clock.now();
    const at = now.toISOString();
    const key = { id: notice.id, attempt: attemptNumber };
    if (!failure) {
      if (await settleNotice(db, key, { status: 'sent' }, at)) count(notice.channel, 'sent');
      return;
    }
    const delay = failure.final || failure.unknown ? undefined : NOTICE_RETRY_SECONDS[attemptNumber - 1];
    if (delay !== undefined) {
      const nextAttemptAt = new Date(now.getTime() + delay * 1000).toISOString();
      if (await settleNotice(db, key, { status: 'pending', nextAttemptAt, error: failure.error }, at)) {
        count(notice.channel, 'retrying');
      }
      return;
    }
    if (await settleNotice(db, key, { status: 'failed', error: failure.error }, at)) {
      count(notice.channel, 'failed');
      deps.log.warn(
        { ...about(notice), attempts: attemptNumber, status: failure.status, outcome_unknown: failure.unknown },
        'chat notice given up',
      );
    }
  }

  /** Gives up the notices whose attempt was never recorded: they may have gone out. */
  async function sweepLapsed(nowIso: string) {
    for (const notice of await lapsedNotices(db, nowIso, 100)) {
      if (await giveUpLapsed(db, notice, nowIso)) {
        count(notice.channel, 'failed');
        deps.log.warn(
          { ...about(notice), attempts: notice.attempts, outcome_unknown: true },
          'chat notice given up: its attempt was never recorded',
        );
      }
    }
  }

  /** Claims what is due and sends it; returns how many were sent (or tried). */
  async function round(): Promise<number> {
    const now = clock.now();
    const at = now.toISOString();
    await sweepLapsed(at);
    const due = await findDueNotices(db, at, concurrency);
    const leaseUntil = new Date(now.getTime() + LEASE_MS).toISOString();
    const sending: Promise<void>[] = [];
    for (const notice of due) {
      if (!(await claimNotice(db, notice, at, leaseUntil))) continue;
      sending.push(
        attempt(notice, notice.attempts + 1).catch((error: unknown) =>
          deps.log.warn({ ...about(notice), err: errorName(error) }, 'chat notice attempt not recorded'),
        ),
      );
    }
    await Promise.all(sending);
    return sending.length;
  }

  async function prune() {
    const now = clock.now().getTime();
    if (now - lastPrune < PRUNE_EVERY_MS) return;
    lastPrune = now;
    await pruneNotices(db, new Date(now - options.retentionMs).toISOString());
  }

  // Rounds until nothing is due, one look at a time; a wake meanwhile makes it look again.
  const poller = createPoller({
    pollIntervalMs: options.pollIntervalMs,
    run: async () => {
      while ((await round()) > 0) {
        // More may be due than one round takes.
      }
      await prune();
    },
    onError: (error) => deps.log.warn({ err: errorName(error) }, 'chat notice loop could not read the outbox'),
  });

  return {
    outcomes,
    start: poller.start,
    /** A decision was written: look now rather than at the next poll. */
    wake: poller.wake,
    /** Sends everything due now and waits for it (a retry scheduled for later is not waited for). */
    async drain() {
      await poller.pump();
      await poller.pump();
    },
    stop: poller.stop,
  };
}

/** A database error's class only: its message may quote a statement's values. */
const errorName = (error: unknown) => (error instanceof Error ? error.name : 'unknown error');

export type ChatNoticeDispatcher = ReturnType<typeof createChatNoticeDispatcher>;
