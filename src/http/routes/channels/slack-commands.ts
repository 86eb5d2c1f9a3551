import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { answerChatCommand } from '../../../features/channels/chat-commands.js';
import { parseSlackText } from '../../../features/channels/claim-command.js';
import { handledBefore } from '../../../features/channels/replay-guard.js';
import { verifySlackSignature } from '../../../features/channels/signatures.js';
import { unauthorized } from '../../../internal/errors.js';
import { errors } from '../../schemas/common.js';
import type { App } from '../../types.js';
import { answerNotFound, keepRawBodies, rawBodyOf } from './raw-body.js';

const SlackAnswer = Type.Object({ response_type: Type.Literal('ephemeral'), text: Type.String() });

/** Slack's slash commands (`/claim CODE`, `/link [CODE]`): on only with SLACK_SIGNING_SECRET. */
export default async function slackCommands(app: App, options: { signingSecret: string | undefined }) {
  const { signingSecret } = options;
  keepRawBodies(app);

  app.post('/slack/commands', {
    ...(signingSecret ? {} : { onRequest: answerNotFound }),
    schema: {
      hide: !signingSecret,
      tags: ['Channels'],
      summary: 'Slack Slash Command',
      description:
        'Request URL of the `/claim` and `/link` slash commands (form-encoded, signed with SLACK_SIGNING_SECRET, at most 5 minutes old). `/claim CODE` redeems the code for the sending `user_id`; `/link` asks for a link code, `/link CODE` links the account of that code to the verified sender. Answers with an ephemeral message.',
      response: { 200: Type.Union([SlackAnswer, Type.Object({})]), ...errors(401) },
    },
    handler: async (request, reply) => {
      if (!signingSecret) return reply.callNotFound();
      const rawBody = rawBodyOf(request.body);
      const valid = verifySlackSignature({
        secret: signingSecret,
        signature: headerOf(request.headers['x-slack-signature']),
        timestamp: timestampOf(request.headers),
        rawBody,
        nowSeconds: Math.floor(app.services.clock.now().getTime() / 1000),
      });
      if (!valid) throw unauthorized('Invalid Slack signature');
      const form = new URLSearchParams(rawBody.toString('utf8'));
      // Slack checks the certificate of a command's URL with `ssl_check=1`; it wants only a 200.
      if (form.get('ssl_check') === '1') return {};
      const userId = form.get('user_id')?.trim().toUpperCase();
      if (!userId) return {};
      // A signed request stays valid for 5 minutes: one replayed (the same timestamp and body)
      // is answered with nothing and redeems nothing.
      const replayKey = `${timestampOf(request.headers)}:${createHash('sha256').update(rawBody).digest('hex')}`;
      if (await handledBefore(app.services.chatUpdates, request.log, 'slack', replayKey)) return {};
      const name = form.get('command') || '/claim';
      const command = parseSlackText(form.get('text') ?? '', name);
      const text = await answerChatCommand(
        { claims: app.services.claims, linkRequests: app.services.linkRequests, log: request.log },
        {
          channel: 'slack',
          externalId: userId,
          command,
          usage: name,
          // The answer is ephemeral wherever the command was typed; a decision comes as a direct message.
          replyTo: {
            user_id: userId,
            team_id: form.get('team_id') || undefined,
            channel_id: form.get('channel_id') || undefined,
          },
        },
      );
      return { response_type: 'ephemeral' as const, text };
    },
  });
}

const headerOf = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
const timestampOf = (headers: FastifyRequest['headers']) => headerOf(headers['x-slack-request-timestamp']);
