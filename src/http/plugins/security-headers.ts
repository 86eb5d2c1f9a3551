import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

// Placeholder: filled in by its issue.
async function plugin(_app: FastifyInstance) {}

export default fp(plugin, { name: 'security-headers' });
