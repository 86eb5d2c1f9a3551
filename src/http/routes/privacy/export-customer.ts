import { Type } from '@sinclair/typebox';
import { errors, Timestamp } from '../../schemas/common.js';
import { CustomerSchema, IdentitySchema } from '../../schemas/resources.js';
import type { App } from '../../types.js';
import { CustomerParams } from '../customers/get-customer.js';

const PersonExportSchema = Type.Object({
  exported_at: Timestamp(),
  customer: CustomerSchema,
  identities: Type.Array(IdentitySchema, { description: 'With their aliases and how each was verified' }),
  link_requests: Type.Array(Type.Unknown()),
  merges: Type.Array(Type.Unknown(), {
    description: 'Merges it took part in, either side, each with the merged-away customer as it was',
  }),
  audit: Type.Array(Type.Unknown(), { description: 'Every audit entry about the customer or its identities' }),
  webhook_events: Type.Array(Type.Unknown(), {
    description: 'Events about them as sent (`body`), each with its deliveries',
  }),
});

export default function exportCustomer(app: App) {
  app.get('/customers/:customer_id/export', {
    config: { auth: 'admin' },
    schema: {
      tags: ['Privacy'],
      summary: 'Export Customer Data',
      description:
        'Everything the service holds about the person, as one JSON document to download (an access request): the customer, its identities with aliases and proofs, link requests of its accounts, merges, every audit entry and webhook event about it. Never a claim code, an API key or a webhook secret.',
      params: CustomerParams,
      response: { 200: PersonExportSchema, ...errors(401, 403, 404, 410, 422) },
    },
    handler: async (request, reply) => {
      const id = request.params.customer_id;
      const document = await app.services.personExport.exportCustomer(id);
      return reply.header('content-disposition', `attachment; filename="customer-${id}.json"`).send(document);
    },
  });
}
