import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ADMIN_KEY } from './build-app.js';

const admin = { 'x-api-key': ADMIN_KEY };

/** Small builders over the public API, so that tests read as the story they tell. */
export async function createCustomer(app: FastifyInstance, body: Record<string, unknown> = {}) {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/customers',
    headers: admin,
    payload: { email: `c-${randomUUID()}@example.com`, name: 'Test Customer', ...body },
  });
  if (response.statusCode !== 201) throw new Error(`createCustomer: ${response.statusCode} ${response.body}`);
  return response.json<{ id: string; email: string; name: string | null }>();
}

export async function createIdentity(app: FastifyInstance, customerId: string, body: Record<string, unknown>) {
  const response = await app.inject({
    method: 'POST',
    url: `/v1/customers/${customerId}/identities`,
    headers: admin,
    payload: body,
  });
  if (response.statusCode !== 201) throw new Error(`createIdentity: ${response.statusCode} ${response.body}`);
  return response.json<{ id: string; channel: string; external_id: string; verified: boolean }>();
}

export async function generateCode(app: FastifyInstance, customerId: string, identityId: string) {
  const response = await app.inject({
    method: 'POST',
    url: `/v1/customers/${customerId}/identities/${identityId}/claim-code`,
    headers: admin,
  });
  if (response.statusCode !== 201) throw new Error(`generateCode: ${response.statusCode} ${response.body}`);
  return response.json<{ code: string; expires_in_seconds: number; identity_id: string; instructions: string }>();
}

export async function createKey(app: FastifyInstance, scope: 'admin' | 'runtime', name = `${scope}-key`) {
  const response = await app.inject({ method: 'POST', url: '/v1/api-keys', headers: admin, payload: { name, scope } });
  if (response.statusCode !== 201) throw new Error(`createKey: ${response.statusCode} ${response.body}`);
  return response.json<{ id: string; key: string; prefix: string }>();
}

/** ISO 8601 UTC with milliseconds and `Z`, as the contract's timestamps. */
export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A clock that only moves when told to, so that tests can order rows and expire codes. */
export class ManualClock {
  private at: number;
  constructor(start = Date.parse('2026-01-01T00:00:00.000Z')) {
    this.at = start;
  }
  now(): Date {
    return new Date(this.at);
  }
  advance(seconds: number): void {
    this.at += seconds * 1000;
  }
}
