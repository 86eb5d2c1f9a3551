import { Type } from '@sinclair/typebox';
import { Metadata, Nullable } from '../shared/fields.js';

// What a valid customer is, field by field: the API's bodies and the bulk import are built from
// these, so that both refuse the same values with the same messages.

/** An email address (checked by the `x-email` keyword; normalized by normalizeEmail). */
export const EmailField = () =>
  Type.String({ format: 'email', 'x-email': true, maxLength: 320, examples: ['steve@acme.com'] });

export const CustomerNameField = () => Nullable(Type.String({ maxLength: 255, examples: ['Steve'] }));

/** The fields a customer is created with; all but `email` optional. */
export const customerInputFields = () => ({
  email: EmailField(),
  name: Type.Optional(CustomerNameField()),
  metadata: Type.Optional(Metadata()),
});
