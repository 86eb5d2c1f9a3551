import type { IncomingMessage } from 'node:http';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyContextConfig } from 'fastify';
import type { DomainError } from '../../../internal/errors.js';
import { errors, Uuid } from '../../schemas/common.js';
import { ChannelField, ExternalIdField, LookupResultSchema } from '../../schemas/resources.js';
import type { App } from '../../types.js';

/** The lookup's content type: its body is sent as JSON text, not serialized by Fastify. */
export const JSON_UTF8 = 'application/json; charset=utf-8';

export const lookupQuerystring = Type.Object({
  channel: ChannelField(),
  external_id: ExternalIdField(),
  instance_id: Type.Optional(Uuid({ description: 'Optional instance scope' })),
});

/** The lookup's path under /v1, and its route config (src/http/fast-path.ts answers the same route). */
export const LOOKUP_PATH = '/customers/lookup/identity';
export const LOOKUP_CONFIG = {
  auth: 'runtime',
  rateLimitGroup: 'lookup',
  notFoundIsAnAnswer: true,
} as const satisfies FastifyContextConfig;

const FAILED = Symbol('lookup failed on the fast path');
type Handed = IncomingMessage & { [FAILED]?: DomainError };

/** The fast path's read failed (the database is unavailable): the route answers that, without reading again. */
export function handOverFailure(req: IncomingMessage, error: DomainError) {
  (req as Handed)[FAILED] = error;
}

export default function lookupIdentity(app: App) {
  // Reply: string, because the handler returns the body as JSON text (the schema still describes it).
  app.get<{ Querystring: Static<typeof lookupQuerystring>; Reply: string }>(LOOKUP_PATH, {
    config: LOOKUP_CONFIG,
    schema: {
      tags: ['Customer identities'],
      summary: 'Lookup Identity',
      description:
        'Reverse lookup: find which customer owns a given channel identity. With `instance_id`, the identity scoped to that instance wins, else the unscoped one; without it, only the unscoped one is found.',
      querystring: lookupQuerystring,
      response: { 200: LookupResultSchema, ...errors(401, 403, 404, 422) },
    },
    // The service answers with the body's JSON text (the cache keeps answers serialized), at once
    // when cached: no promise, no serializer. Errors thrown here take the usual error path.
    handler: (request, reply) => {
      const failed = (request.raw as Handed)[FAILED];
      if (failed) throw failed;
      const answer = app.services.identities.lookupJson(request.query);
      reply.type(JSON_UTF8);
      return answer;
    },
  });
}
