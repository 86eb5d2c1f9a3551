import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFile } from '../../src/cli/data.js';
import { linkReplies } from '../../src/features/channels/link-replies.js';
import type { Services } from '../../src/services.js';
import {
  CHANNELS,
  type ChannelName,
  type ChatDriver,
  chatDrivers,
  chatEnv,
  type Sender,
} from '../channels/chat-drivers.js';
import { FakePlatform } from '../channels/fake-platform.js';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity } from '../helpers/factories.js';

const telegramId = () => String(300_000_000 + Math.floor(Math.random() * 99_000_000));

describe.each(DIALECTS)('suppression on $name', (dialect) => {
  let t: TestApp;
  let app: FastifyInstance;
  let dir: string;
  const tag = randomUUID().slice(0, 8);
  const email = `suppress-${tag}@example.com`;
  const telegram = telegramId();
  const alias = telegramId();
  const phone = '+1 (415) 555-2671';
  let erasedIds: string[];
  const platform = new FakePlatform();
  let drivers: Record<ChannelName, ChatDriver>;

  const post = (url: string, payload: Record<string, unknown>) =>
    app.inject({ method: 'POST', url, headers: t.admin, payload });
  const suppressedDetail = (what: string) => ({ detail: `This ${what} was erased and is suppressed` });

  beforeAll(async () => {
    await platform.start();
    t = await buildTestApp(dialect, chatEnv(platform));
    app = t.app;
    drivers = chatDrivers(
      () => app,
      platform,
      () => Math.floor(Date.now() / 1000),
    );
    dir = mkdtempSync(join(tmpdir(), 'ids-suppress-'));
    const person = await createCustomer(app, { email, name: 'Suppressed Person' });
    const identity = await createIdentity(app, person.id, { channel: 'telegram', external_id: telegram });
    await createIdentity(app, person.id, { channel: 'whatsapp', external_id: phone });
    const added = await post(`/v1/customers/${person.id}/identities/${identity.id}/aliases`, { external_id: alias });
    expect(added.statusCode).toBe(201);
    const erased = await post(`/v1/customers/${person.id}/erase`, { suppress: true });
    expect(erased.statusCode).toBe(200);
    expect(erased.json().suppressed).toBe(4);
    erasedIds = [person.id];
  });
  afterAll(async () => {
    await t?.close();
    await platform.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists suppressions by kind and channel only, and keeps no value as text', async () => {
    const list = await app.inject({ url: '/v1/suppressions', headers: t.admin });
    expect(list.statusCode).toBe(200);
    const items = list.json<{ id: string; kind: string; channel: string | null; created_at: string }[]>();
    expect(items.map((s) => [s.kind, s.channel]).sort()).toEqual([
      ['email', null],
      ['external_id', 'telegram'],
      ['external_id', 'telegram'],
      ['external_id', 'whatsapp'],
    ]);
    expect(Object.keys(items[0] as object).sort()).toEqual(['channel', 'created_at', 'id', 'kind']);
    const rows = JSON.stringify(
      await (app as FastifyInstance & { services: Services }).services.db.kysely
        .selectFrom('suppressions')
        .selectAll()
        .execute(),
    );
    for (const value of [email, telegram, alias, '14155552671', erasedIds[0] as string])
      expect(rows).not.toContain(value);
  });

  it('refuses the email on create and update, written any way the service reads it', async () => {
    const created = await post('/v1/customers', { email: `  ${email.toUpperCase()} ` });
    expect(created.statusCode).toBe(409);
    expect(created.json()).toEqual(suppressedDetail('email'));
    const other = await createCustomer(app);
    const updated = await app.inject({
      method: 'PATCH',
      url: `/v1/customers/${other.id}`,
      headers: t.admin,
      payload: { email },
    });
    expect(updated.statusCode).toBe(409);
    expect((await app.inject({ url: `/v1/customers/${other.id}`, headers: t.admin })).json().email).toBe(other.email);
  });

  it('refuses the accounts as identities and as aliases; the phone in any notation', async () => {
    const other = await createCustomer(app);
    for (const [channel, externalId] of [
      ['telegram', telegram],
      ['telegram', alias],
      ['whatsapp', '14155552671'],
      ['whatsapp', '+1 415-555-2671'],
    ]) {
      const linked = await post(`/v1/customers/${other.id}/identities`, { channel, external_id: externalId });
      expect(linked.statusCode, `${channel} ${externalId}`).toBe(409);
      expect(linked.json()).toEqual(suppressedDetail(`${channel} account`));
    }
    const own = await createIdentity(app, other.id, { channel: 'telegram', external_id: telegramId() });
    const aliased = await post(`/v1/customers/${other.id}/identities/${own.id}/aliases`, { external_id: telegram });
    expect(aliased.statusCode).toBe(409);
    const identities = await app.inject({ url: `/v1/customers/${other.id}/identities`, headers: t.admin });
    expect(identities.json()).toHaveLength(1);
  });

  it('a lookup of a suppressed id is a plain 404', async () => {
    const lookup = await app.inject({
      url: `/v1/customers/lookup/identity?channel=telegram&external_id=${telegram}`,
      headers: t.admin,
    });
    expect(lookup.statusCode).toBe(404);
    expect(lookup.json().detail).not.toMatch(/suppress|erase/);
  });

  it('reports an imported line with a suppressed value as bad and writes the rest', async () => {
    const file = join(dir, 'people.jsonl');
    const fresh = `fresh-${tag}@example.com`;
    writeFileSync(
      file,
      [
        JSON.stringify({ email: fresh }),
        JSON.stringify({ email }),
        JSON.stringify({
          email: `x-${tag}@example.com`,
          identities: [{ channel: 'whatsapp', external_id: '14155552671' }],
        }),
      ].join('\n'),
    );
    const summary = await importFile((app as FastifyInstance & { services: Services }).services, file, { quiet: true });
    expect(summary).toMatchObject({ customers: 1, skipped: 2 });
    expect(summary.badLines).toEqual([
      expect.objectContaining({ line: 2, message: 'This email was erased and is suppressed' }),
      expect.objectContaining({ line: 3, message: 'This whatsapp account was erased and is suppressed' }),
    ]);
  });

  it('lifting frees a value (404 when it is not suppressed), and validates its body', async () => {
    expect((await post('/v1/suppressions/lift', { email: email.toUpperCase() })).statusCode).toBe(204);
    expect((await post('/v1/suppressions/lift', { email })).statusCode).toBe(404);
    expect((await post('/v1/customers', { email })).statusCode).toBe(201);

    expect((await post('/v1/suppressions/lift', { channel: 'whatsapp', external_id: '14155552671' })).statusCode).toBe(
      204,
    );
    const back = await createCustomer(app);
    expect(
      (await post(`/v1/customers/${back.id}/identities`, { channel: 'whatsapp', external_id: phone })).statusCode,
    ).toBe(201);
    // Still suppressed: the telegram accounts.
    expect(
      (await post(`/v1/customers/${back.id}/identities`, { channel: 'telegram', external_id: telegram })).statusCode,
    ).toBe(409);

    for (const body of [{}, { channel: 'telegram' }, { email, channel: 'telegram', external_id: telegram }]) {
      const bad = await post('/v1/suppressions/lift', body);
      expect(bad.statusCode, JSON.stringify(body)).toBe(422);
      expect(bad.json().detail[0]).toMatchObject({ loc: ['body'], type: 'value_error' });
    }
    expect((await post('/v1/suppressions/lift', { channel: 'telegram', external_id: 'not-a-number' })).statusCode).toBe(
      422,
    );
    expect((await app.inject({ url: '/v1/suppressions', headers: t.admin })).json()).toHaveLength(2);
    const audit = await app.inject({ url: '/v1/audit?action=suppression.lifted', headers: t.admin });
    expect(audit.json().items).toHaveLength(2);
    expect(JSON.stringify(audit.json())).not.toContain(email);
  });

  it('refuses link requests of an erased person: asking, from a chat too, and redeeming onto their email', async () => {
    const other = `link-${tag}@example.com`;
    const person = await createCustomer(app, { email: other });
    const senders = {} as Record<ChannelName, Sender>;
    for (const channel of CHANNELS) {
      senders[channel] = drivers[channel].newSender();
      await createIdentity(app, person.id, { channel, external_id: senders[channel].externalId });
    }
    expect((await post(`/v1/customers/${person.id}/erase`, { suppress: true })).statusCode).toBe(200);
    const requests = async () =>
      (await app.inject({ url: '/v1/link-requests?limit=200', headers: t.admin })).json<{
        items: { id: string; external_id: string; status: string }[];
      }>().items;
    const before = await requests();

    const telegramAccount = senders.telegram.externalId;
    for (const payload of [
      { channel: 'telegram', external_id: telegramAccount },
      { channel: 'telegram', external_id: telegramAccount, instance_id: randomUUID(), display_name: 'Back Again' },
    ]) {
      const asked = await post('/v1/link-requests', payload);
      expect(asked.statusCode, JSON.stringify(payload)).toBe(409);
      expect(asked.json()).toEqual(suppressedDetail('telegram account'));
    }

    // A chat user is told no, never why: the account may have passed to someone else since.
    for (const channel of CHANNELS) {
      expect(await drivers[channel].link(senders[channel]), channel).toBe(linkReplies.refused());
    }
    expect(await requests()).toEqual(before);

    const fresh = await post('/v1/link-requests', { channel: 'telegram', external_id: telegramId() });
    expect(fresh.statusCode).toBe(201);
    const { id, code } = fresh.json<{ id: string; code: string }>();
    const redeemed = await post('/v1/link-requests/redeem', { code, customer: { email: ` ${other.toUpperCase()}` } });
    expect(redeemed.statusCode).toBe(409);
    expect(redeemed.json()).toEqual(suppressedDetail('email'));
    const approved = await post(`/v1/link-requests/${id}/approve`, { customer: { email: other } });
    expect(approved.statusCode).toBe(409);
    expect(approved.json()).toEqual(suppressedDetail('email'));
    expect((await app.inject({ url: `/v1/link-requests/${id}`, headers: t.admin })).json().status).toBe('pending');
    expect((await app.inject({ url: `/v1/customers?email=${other}`, headers: t.admin })).json().items).toEqual([]);

    // Lifting frees each value again.
    expect((await post('/v1/suppressions/lift', { email: other })).statusCode).toBe(204);
    const now = await post('/v1/link-requests/redeem', { code, customer: { email: other } });
    expect(now.statusCode, now.body).toBe(200);
    expect(now.json().link_request).toMatchObject({ id, status: 'approved' });
    expect(
      (await post('/v1/suppressions/lift', { channel: 'telegram', external_id: telegramAccount })).statusCode,
    ).toBe(204);
    expect((await post('/v1/link-requests', { channel: 'telegram', external_id: telegramAccount })).statusCode).toBe(
      201,
    );
    expect(
      (await post('/v1/suppressions/lift', { channel: 'slack', external_id: senders.slack.externalId })).statusCode,
    ).toBe(204);
    expect(await drivers.slack.link(senders.slack)).toMatch(/^Your link code is /);
  });
});
