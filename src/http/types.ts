import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Actor } from '../features/changes/changes.js';

/** The Fastify instance every route registers on: TypeBox schemas drive the handler's types. */
export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** The acting key, for the audit trail; the auth plugin has checked it before any handler runs. */
export function actorOf(request: FastifyRequest): Actor {
  const principal = request.principal;
  return principal ? { keyId: principal.keyId, name: principal.name } : { keyId: null, name: 'anonymous' };
}
