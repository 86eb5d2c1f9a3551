import type { ClaimsService } from '../claims/claims.service.js';
import type { LinkRequestsService } from '../link-requests/link-requests.service.js';
import { answerChatCommand } from './chat-commands.js';
import { replies } from './claim-replies.js';
import { editDiscordInteractionReply } from './discord-api.js';
import { EPHEMERAL, type Interaction, ResponseType } from './discord-interactions.js';
import type { RedeemLogger } from './redeem-from-chat.js';
import { handledBefore, type ReplayGuard } from './replay-guard.js';

/**
 * Discord shows "The application did not respond" 3 seconds after the interaction. An answer not
 * ready after this long (a write waiting for SQLite's lock, a slow database) is deferred: Discord
 * shows "thinking…" to the user, and the answer follows through the interaction's webhook.
 */
export const DEFER_AFTER_MS = 2_000;

export type CommandInteraction = Extract<Interaction, { kind: 'command' }>;
export type DiscordResponse =
  | { type: typeof ResponseType.CHANNEL_MESSAGE; data: { content: string; flags: number } }
  | { type: typeof ResponseType.DEFERRED_CHANNEL_MESSAGE; data: { flags: number } };

/** An answer only the invoking user sees. */
export const ephemeral = (content: string): DiscordResponse => ({
  type: ResponseType.CHANNEL_MESSAGE,
  data: { content, flags: EPHEMERAL },
});

/**
 * Answers Discord's slash commands for the invoking user, with the texts of every other channel.
 * An interaction id seen before (a replay of a signed request) is answered without acting again.
 */
export function createDiscordHandler(deps: {
  claims: ClaimsService;
  linkRequests: LinkRequestsService;
  chatUpdates: ReplayGuard;
  apiBase: string;
  deferAfterMs?: number;
}) {
  const deferAfterMs = deps.deferAfterMs ?? DEFER_AFTER_MS;
  /** Follow-ups still being sent: the server waits for them when it closes. */
  const followUps = new Set<Promise<void>>();

  async function textFor(interaction: CommandInteraction, log: RedeemLogger): Promise<string> {
    if (await handledBefore(deps.chatUpdates, log, 'discord', interaction.id)) return replies.alreadyHandled();
    if (!interaction.command) return replies.unknownCommand();
    // Discord always names the user; without one, nobody can own the code.
    if (!interaction.userId) return replies.invalid();
    return answerChatCommand(
      { claims: deps.claims, linkRequests: deps.linkRequests, log },
      {
        channel: 'discord',
        externalId: interaction.userId,
        command: interaction.command,
        usage: '/claim',
        // Answers are ephemeral even in a server; a decision comes as a direct message.
        replyTo: { user_id: interaction.userId },
      },
    );
  }

  return {
    /**
     * `responded` settles once the answer has gone out: a deferred answer's edit must not reach
     * Discord before the deferral itself, or Discord knows no message to edit.
     */
    async answer(
      interaction: CommandInteraction,
      log: RedeemLogger,
      responded: Promise<unknown> = Promise.resolve(),
    ): Promise<DiscordResponse> {
      const work = textFor(interaction, log).catch((error: unknown) => {
        log.warn({ err: error }, 'Discord command failed');
        return replies.unavailable();
      });
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), deferAfterMs);
      });
      const text = await Promise.race([work, late]);
      clearTimeout(timer);
      if (text !== undefined) return ephemeral(text);
      const followUp = Promise.all([work, responded])
        .then(([later]) =>
          editDiscordInteractionReply(deps.apiBase, {
            applicationId: interaction.applicationId,
            interactionToken: interaction.token,
            text: later,
          }),
        )
        .catch((error: unknown) => log.warn({ err: error }, 'could not send the Discord follow-up'))
        .finally(() => followUps.delete(followUp));
      followUps.add(followUp);
      return { type: ResponseType.DEFERRED_CHANNEL_MESSAGE, data: { flags: EPHEMERAL } };
    },
    /** Waits for the follow-ups in flight (before the database closes). */
    async drain(): Promise<void> {
      await Promise.allSettled([...followUps]);
    },
  };
}
