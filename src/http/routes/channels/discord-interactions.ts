import { Type } from '@sinclair/typebox';
import type { Config } from '../../../config.js';
import { createDiscordHandler } from '../../../features/channels/discord-handler.js';
import { interactionOf, ResponseType } from '../../../features/channels/discord-interactions.js';
import { discordPublicKey, verifyDiscordSignature } from '../../../features/channels/signatures.js';
import { DomainError, unauthorized } from '../../../internal/errors.js';
import { errors } from '../../schemas/common.js';
import type { App } from '../../types.js';
import { answerNotFound, keepRawBodies, rawBodyOf } from './raw-body.js';

const DiscordAnswer = Type.Object({
  type: Type.Integer({ description: '1 PONG, 4 a message, 5 deferred (the message follows)' }),
  data: Type.Optional(
    Type.Object({
      content: Type.Optional(Type.String()),
      flags: Type.Integer({ description: '64: only the invoking user sees it' }),
    }),
  ),
});

const headerOf = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** Discord's interactions endpoint: on only with DISCORD_PUBLIC_KEY. */
export default async function discordInteractions(app: App, options: { discord: Config['discord'] }) {
  const { publicKey: publicKeyHex, apiBase } = options.discord;
  const publicKey = publicKeyHex ? discordPublicKey(publicKeyHex) : undefined;
  keepRawBodies(app);
  const handler = createDiscordHandler({
    claims: app.services.claims,
    linkRequests: app.services.linkRequests,
    chatUpdates: app.services.chatUpdates,
    apiBase,
  });
  app.addHook('onClose', () => handler.drain());

  app.post('/discord/interactions', {
    ...(publicKey ? {} : { onRequest: answerNotFound }),
    schema: {
      hide: !publicKey,
      tags: ['Channels'],
      summary: 'Discord Interactions',
      description:
        "Discord's Interactions Endpoint URL. Every request is signed with the application's Ed25519 key (X-Signature-Ed25519 over X-Signature-Timestamp and the raw body, DISCORD_PUBLIC_KEY) and at most 5 minutes old, else 401. PING answers PONG; the commands `/claim code` and `/link [code]` act for the invoking user and answer with a message only that user sees (or, when the answer takes longer than 2 s, a deferred one that is then edited through the interaction's webhook). An interaction id seen before is answered without acting again.",
      response: { 200: DiscordAnswer, ...errors(400, 401) },
    },
    handler: async (request, reply) => {
      if (!publicKey) return reply.callNotFound();
      const rawBody = rawBodyOf(request.body);
      const valid = verifyDiscordSignature({
        publicKey,
        signature: headerOf(request.headers['x-signature-ed25519']),
        timestamp: headerOf(request.headers['x-signature-timestamp']),
        rawBody,
        nowSeconds: Math.floor(app.services.clock.now().getTime() / 1000),
      });
      if (!valid) throw unauthorized('Invalid request signature');
      let payload: unknown;
      try {
        payload = JSON.parse(rawBody.toString('utf8'));
      } catch {
        throw new DomainError('bad_request', 'The interaction is not JSON');
      }
      const interaction = interactionOf(payload);
      if (!interaction) throw new DomainError('bad_request', 'Not an interaction');
      if (interaction.kind === 'ping') return { type: ResponseType.PONG };
      // Buttons, autocomplete and modals: none of our commands makes any.
      if (interaction.kind === 'unsupported') throw new DomainError('bad_request', 'Unsupported interaction type');
      const responded = new Promise<void>((resolve) => {
        reply.raw.once('finish', resolve);
        reply.raw.once('close', resolve);
      });
      return handler.answer(interaction, request.log, responded);
    },
  });
}
