import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { SERVICE_VERSION } from '../../internal/version.js';
import { CONTENT_SECURITY_POLICY_HEADER } from './security-headers.js';

/**
 * `/openapi.json` is generated from the route schemas; `/docs` renders it with Swagger UI, whose
 * assets come from the npm package and are served from our own origin.
 */
async function docsPlugin(app: FastifyInstance) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Identity service',
        version: SERVICE_VERSION,
        description:
          'Links customers to their channel identities (Telegram, WhatsApp, Slack, …) and answers the agent runtime\'s "who is Telegram user 12345?".',
      },
      components: {
        securitySchemes: { ApiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' } },
      },
      tags: [
        { name: 'Customer identities' },
        { name: 'Customers' },
        {
          name: 'Link requests',
          description:
            'A stranger asks to be known: a code that an operator, or the person from a verified account, types in',
        },
        { name: 'API keys' },
        { name: 'Audit' },
        {
          name: 'Privacy',
          description: 'Answering access and erasure requests; values of erased people kept from coming back',
        },
        { name: 'Channels', description: 'Chat webhooks: present only for the channels that are configured' },
        { name: 'Health' },
      ],
    },
    // A tag no operation uses would show as an empty section in /docs (the chat webhooks' routes
    // exist only when their channel is configured): list only the tags in use.
    transformObject: (document) => {
      if (!('openapiObject' in document)) return document.swaggerObject;
      const doc = document.openapiObject;
      const used = new Set(
        Object.values(doc.paths ?? {}).flatMap((item) =>
          Object.values(item ?? {}).flatMap((operation) => (operation as { tags?: string[] }).tags ?? []),
        ),
      );
      return { ...doc, tags: doc.tags?.filter((tag) => used.has(tag.name)) };
    },
    transform: ({ schema, url, route }) => {
      const needsKey = Boolean((route.config as { auth?: string } | undefined)?.auth);
      return { schema: needsKey ? { ...schema, security: [{ ApiKey: [] }] } : schema, url } as never;
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // No online validator badge: it would be the page's only third-party request. No top bar
    // (BaseLayout): its Swagger logo is an SVG with an inline <style>, which our policy refuses
    // (a CSP violation in the console), and its box for loading other documents is of no use here.
    uiConfig: {
      url: '/openapi.json',
      deepLinking: true,
      persistAuthorization: false,
      validatorUrl: null,
      layout: 'BaseLayout',
    },
    staticCSP: CONTENT_SECURITY_POLICY_HEADER,
  });
}

export default fp(docsPlugin, { name: 'docs' });
