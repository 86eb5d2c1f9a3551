import { Type } from '@sinclair/typebox';
import { errors } from '../../schemas/common.js';
import { ExternalIdField, IdentitySchema } from '../../schemas/resources.js';
import { type App, actorOf } from '../../types.js';
import { IdentityParams } from './update-identity.js';

const body = Type.Object({ external_id: ExternalIdField() });

export default function addAlias(app: App) {
  app.post('/customers/:customer_id/identities/:identity_id/aliases', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Customer identities'],
      summary: 'Add Identity Alias',
      description:
        "Another external id of the same account on the identity's channel (a WhatsApp business-scoped user id beside the phone number, a Slack enterprise user id beside the workspace one), normalized like external_id. Lookups and claims by the alias find this identity. 409 (saying with whom) when that (channel, external id, scope) is already any identity's external id or alias.",
      params: IdentityParams,
      body,
      response: { 201: IdentitySchema, ...errors(401, 403, 404, 409, 410, 422) },
    },
    handler: async (request, reply) => {
      const identity = await app.services.identities.addAlias(
        actorOf(request),
        request.params.customer_id,
        request.params.identity_id,
        request.body.external_id,
      );
      return reply.code(201).send(identity);
    },
  });
}
