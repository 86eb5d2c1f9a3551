import { Type } from '@sinclair/typebox';
import { DisplayNameField, RoleOverrideField } from '../../../features/identities/identity-fields.js';
import { errors, Metadata, Uuid } from '../../schemas/common.js';
import { IdentitySchema } from '../../schemas/resources.js';
import { type App, actorOf } from '../../types.js';

export const IdentityParams = Type.Object({ customer_id: Uuid(), identity_id: Uuid() });

const body = Type.Object({
  display_name: Type.Optional(DisplayNameField()),
  verified: Type.Optional(Type.Boolean()),
  metadata: Type.Optional(Metadata()),
  role_override: Type.Optional(RoleOverrideField()),
});

export default function updateIdentity(app: App) {
  app.patch('/customers/:customer_id/identities/:identity_id', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Customer identities'],
      summary: 'Update Customer Identity',
      description:
        'Update an identity link (display name, verification status, metadata). `verified: true` sets verified_at (kept if already verified); `false` clears it. `{}` changes nothing.',
      params: IdentityParams,
      body,
      response: { 200: IdentitySchema, ...errors(401, 403, 404, 422) },
    },
    handler: (request) =>
      app.services.identities.update(
        actorOf(request),
        request.params.customer_id,
        request.params.identity_id,
        request.body,
      ),
  });
}
