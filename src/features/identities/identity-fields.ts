import { Type } from '@sinclair/typebox';
import { Metadata, Nullable, Uuid } from '../shared/fields.js';
import { CHANNEL_PATTERN } from './identities.js';

// What a valid identity is, field by field: the API's bodies and the bulk import are built from
// these, so that both refuse the same values with the same messages.

export const ChannelField = () =>
  Type.String({
    minLength: 1,
    maxLength: 64,
    description: `Channel type: telegram, whatsapp, slack, etc. Trimmed and lowercased, then ${CHANNEL_PATTERN}`,
  });

export const ExternalIdField = () =>
  Type.String({ minLength: 1, maxLength: 255, description: 'External ID (chat_id, phone, etc.)' });

export const DisplayNameField = () => Nullable(Type.String({ maxLength: 255 }));

export const RoleOverrideField = () =>
  Nullable(
    Type.String({
      maxLength: 64,
      description: "Override channel default role: 'owner' for elevated access, null for default",
    }),
  );

/** The fields an identity is linked with; all but `channel` and `external_id` optional. */
export const identityInputFields = () => ({
  channel: ChannelField(),
  external_id: ExternalIdField(),
  instance_id: Type.Optional(Nullable(Uuid({ description: 'Optional: scope to a specific instance' }))),
  role_override: Type.Optional(RoleOverrideField()),
  display_name: Type.Optional(DisplayNameField()),
  metadata: Type.Optional(Metadata()),
});
