import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, generateCode } from '../helpers/factories.js';
import { FakePlatform, type RecordedCall } from './fake-platform.js';

const APP_SECRET = 'whatsapp-app-secret';
const VERIFY_TOKEN = 'whatsapp-verify-token';
const ACCESS_TOKEN = 'EAAG-access-token';
const PHONE_NUMBER_ID = '106540352242922';
const URL = '/v1/channels/whatsapp/webhook';

let messageNo = 0;

/** A "messages" webhook as Meta documents it, with one text message. */
function textWebhook(sender: { from?: string; from_user_id?: string }, body: string) {
  const wamid = `wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA${++messageNo}`;
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: PHONE_NUMBER_ID },
              contacts: [
                {
                  profile: { name: 'Sheena Nelson' },
                  ...(sender.from ? { wa_id: sender.from } : {}),
                  ...(sender.from_user_id ? { user_id: sender.from_user_id } : {}),
                },
              ],
              messages: [{ ...sender, id: wamid, timestamp: '1749416383', type: 'text', text: { body } }],
            },
          },
        ],
      },
    ],
  };
}

/** A delivery status webhook: no message, nothing to do. */
const statusWebhook = {
  object: 'whatsapp_business_account',
  entry: [
    {
      id: '102290129340398',
      changes: [
        {
          field: 'messages',
          value: {
            messaging_product: 'whatsapp',
            metadata: { display_phone_number: '15550783881', phone_number_id: PHONE_NUMBER_ID },
            statuses: [
              {
                id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA',
                status: 'delivered',
                timestamp: '1750263773',
                recipient_id: '16505551234',
              },
            ],
          },
        },
      ],
    },
  ],
};

/** The text of a recorded Graph API message. */
const textOf = (call: RecordedCall | undefined) => String((call?.body.text as { body?: string } | undefined)?.body);

const sign = (raw: string, secret = APP_SECRET) => `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;

describe.each(DIALECTS)('WhatsApp webhook on $name', (dialect) => {
  let t: TestApp;
  const platform = new FakePlatform();

  beforeAll(async () => {
    await platform.start();
    t = await buildTestApp(dialect, {
      WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN,
      WHATSAPP_APP_SECRET: APP_SECRET,
      WHATSAPP_ACCESS_TOKEN: ACCESS_TOKEN,
      WHATSAPP_API_BASE: `${platform.baseUrl}/v21.0`,
    });
  });
  afterAll(async () => {
    await t.close();
    await platform.stop();
  });

  const post = (payload: unknown, signature?: string) => {
    const raw = JSON.stringify(payload);
    return t.app.inject({
      method: 'POST',
      url: URL,
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature ?? sign(raw) },
      payload: raw,
    });
  };

  async function unverifiedIdentity(phone: string) {
    const customer = await createCustomer(t.app);
    const identity = await createIdentity(t.app, customer.id, { channel: 'whatsapp', external_id: phone });
    const { code } = await generateCode(t.app, customer.id, identity.id);
    return { customer, identity, code };
  }

  const lookup = async (phone: string) =>
    (
      await t.app.inject({
        url: `/v1/customers/lookup/identity?channel=whatsapp&external_id=${encodeURIComponent(phone)}`,
        headers: t.admin,
      })
    ).json<{
      verified: boolean;
      role_override: string | null;
      verified_via: string | null;
      identity_id: string;
      customer_id: string;
      external_id: string;
    }>();

  it('answers the subscription handshake only with the right token', async () => {
    const ok = await t.app.inject({
      url: `${URL}?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=${VERIFY_TOKEN}`,
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe('1158201444');
    expect(ok.headers['content-type']).toMatch(/^text\/plain/);
    for (const query of [
      'hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=wrong',
      'hub.mode=unsubscribe&hub.challenge=1158201444&hub.verify_token=whatsapp-verify-token',
      'hub.challenge=1158201444',
    ]) {
      const refused = await t.app.inject({ url: `${URL}?${query}` });
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toEqual({ detail: expect.any(String) });
    }
  });

  it('verifies the sending number from "claim CODE" and replies through the Graph API', async () => {
    const { code, customer } = await unverifiedIdentity('+1 (650) 555-1234');
    platform.take();
    const response = await post(textWebhook({ from: '16505551234' }, `Claim ${code}`));
    expect(response.statusCode).toBe(200);
    expect(await lookup('+16505551234')).toMatchObject({ verified: true, role_override: 'owner' });
    const [call, ...more] = platform.take();
    expect(more).toEqual([]);
    expect(call?.method).toBe('POST');
    expect(call?.path).toBe(`/v21.0/${PHONE_NUMBER_ID}/messages`);
    expect(call?.headers.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
    expect(call?.body).toMatchObject({ messaging_product: 'whatsapp', to: '16505551234', type: 'text' });
    expect(textOf(call)).toMatch(/^You're verified/);

    const audit = await t.app.inject({ url: `/v1/audit?customer_id=${customer.id}`, headers: t.admin });
    const events = audit.json<{ items: { action: string; actor: string }[] }>().items;
    expect(events.find((e) => e.action === 'claim.succeeded')?.actor).toBe('whatsapp-webhook');
  });

  it('accepts /claim CODE too, and answers a wrong code without saying more', async () => {
    const { code } = await unverifiedIdentity('+447700900123');
    platform.take();
    await post(textWebhook({ from: '447700900999' }, `/claim ${code}`));
    await post(textWebhook({ from: '447700900123' }, '/claim ZZZZZZ'));
    const texts = platform.take().map(textOf);
    expect(texts).toHaveLength(2);
    expect(texts[0]).toMatch(/didn't work/);
    expect(texts[1]).toBe(texts[0]);
    expect(await lookup('+447700900123')).toMatchObject({ verified: false });
    await post(textWebhook({ from: '447700900123' }, `/claim ${code}`));
    expect(await lookup('+447700900123')).toMatchObject({ verified: true });
  });

  it('refuses a forged signature with 401 and changes nothing', async () => {
    const { code } = await unverifiedIdentity('+16505550001');
    platform.take();
    const payload = textWebhook({ from: '16505550001' }, `claim ${code}`);
    for (const signature of [sign(JSON.stringify(payload), 'another-secret'), 'sha256=', '', sign('{}')]) {
      const response = await post(payload, signature);
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({ detail: 'Invalid webhook signature' });
    }
    expect(await lookup('+16505550001')).toMatchObject({ verified: false });
    expect(platform.take()).toEqual([]);
  });

  it('changes nothing for a sender with an unknown user id and no phone number, and answers that id', async () => {
    const { code } = await unverifiedIdentity('+16505550002');
    platform.take();
    const response = await post(textWebhook({ from_user_id: 'US.13491208655302741918' }, `claim ${code}`));
    expect(response.statusCode).toBe(200);
    expect(await lookup('+16505550002')).toMatchObject({ verified: false });
    const [call] = platform.take();
    expect(call?.body).toMatchObject({ recipient: 'US.13491208655302741918' });
    expect(call?.body.to).toBeUndefined();
    expect(textOf(call)).toMatch(/didn't work/);
  });

  it('tells a sender with neither a phone number nor a valid user id why nothing happened', async () => {
    platform.take();
    const response = await post(textWebhook({ from_user_id: 'not-a-bsuid' }, 'claim ABCDEF'));
    expect(response.statusCode).toBe(200);
    expect(textOf(platform.take()[0])).toMatch(/phone number/);
  });

  it('redeems a claim from a user id alone for the identity that has it as external id', async () => {
    const userId = `US.${Date.now()}${messageNo}`;
    const { code } = await unverifiedIdentity(userId.toLowerCase());
    platform.take();
    await post(textWebhook({ from_user_id: userId }, `claim ${code}`));
    expect(await lookup(userId)).toMatchObject({ verified: true, role_override: 'owner', verified_via: 'claim_code' });
    expect(textOf(platform.take()[0])).toMatch(/^You're verified/);
  });

  it('learns the user id of a number from a message that carries both (alias, verified by the platform, audited), then redeems from the user id alone', async () => {
    const userId = `US.${Date.now()}${messageNo}1`;
    const { customer, identity, code } = await unverifiedIdentity('+16505550003');
    platform.take();
    await post(textWebhook({ from: '16505550003', from_user_id: userId }, 'Hello!'));
    expect(platform.take()).toEqual([]);
    const byUserId = await lookup(userId);
    expect(byUserId).toMatchObject({
      identity_id: identity.id,
      external_id: '+16505550003',
      verified: true,
      verified_via: 'platform',
    });

    const audit = await t.app.inject({ url: `/v1/audit?identity_id=${identity.id}`, headers: t.admin });
    const events = audit.json<{
      items: { action: string; actor: string; source?: string; after: { aliases: string[] } }[];
    }>().items;
    const added = events.find((e) => e.action === 'identity.alias_added');
    expect(added).toMatchObject({ actor: 'whatsapp-webhook', source: 'platform', after: { aliases: [userId] } });
    expect(events.find((e) => e.action === 'identity.verified')).toMatchObject({ source: 'platform' });

    // Redelivered: nothing more happens.
    await post(textWebhook({ from: '16505550003', from_user_id: userId }, 'Hello!'));
    const again = await t.app.inject({ url: `/v1/audit?identity_id=${identity.id}`, headers: t.admin });
    expect(again.json<{ items: unknown[] }>().items).toHaveLength(events.length);

    // Later the number is hidden: the claim from the user id alone still finds the identity.
    await post(textWebhook({ from_user_id: userId }, `claim ${code}`));
    expect(await lookup(userId)).toMatchObject({ verified: true, role_override: 'owner', verified_via: 'claim_code' });
    expect(customer.id).toBe(byUserId.customer_id);
  });

  it("re-keys an identity on Meta's user_changed_number and user_changed_user_id notices", async () => {
    const { identity } = await unverifiedIdentity('+16505550004');
    const oldUserId = `US.${Date.now()}${messageNo}2`;
    const newUserId = `US.${Date.now()}${messageNo}3`;
    await post(textWebhook({ from: '16505550004', from_user_id: oldUserId }, 'hi'));
    // Shapes of Meta's "System messages webhook reference": no contacts array.
    const system = (message: Record<string, unknown>) => ({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550783881', phone_number_id: PHONE_NUMBER_ID },
                messages: [{ id: `wamid.system${++messageNo}`, timestamp: '1739321024', type: 'system', ...message }],
              },
            },
          ],
        },
      ],
    });
    const changedNumber = await post(
      system({
        from: '16505550004',
        system: {
          body: 'User Sheena Nelson changed from 16505550004 to 12195555358',
          wa_id: '12195555358',
          type: 'user_changed_number',
        },
      }),
    );
    expect(changedNumber.statusCode).toBe(200);
    expect(await lookup('+12195555358')).toMatchObject({ identity_id: identity.id, external_id: '+12195555358' });
    const old = await t.app.inject({
      url: '/v1/customers/lookup/identity?channel=whatsapp&external_id=%2B16505550004',
      headers: t.admin,
    });
    expect(old.statusCode).toBe(404);

    await post(
      system({
        from_user_id: oldUserId,
        system: {
          body: `User Sheena Nelson changed from ${oldUserId} to ${newUserId}`,
          user_id: newUserId,
          previous_user_id: oldUserId,
          type: 'user_changed_user_id',
        },
      }),
    );
    expect(await lookup(newUserId)).toMatchObject({ identity_id: identity.id });
    const list = await t.app.inject({
      url: `/v1/customers/${(await lookup(newUserId)).customer_id}/identities`,
      headers: t.admin,
    });
    expect(list.json()[0]).toMatchObject({ external_id: '+12195555358', aliases: [newUserId] });
  });

  it('acknowledges and ignores statuses and unrelated messages', async () => {
    platform.take();
    for (const payload of [
      statusWebhook,
      textWebhook({ from: '16505551234' }, 'Does it come in another color?'),
      textWebhook({ from: '16505551234' }, 'claimed already?'),
      { object: 'page', entry: [] },
    ]) {
      const response = await post(payload);
      expect(response.statusCode).toBe(200);
    }
    expect(platform.take()).toEqual([]);
  });
});

describe('WhatsApp webhook when not configured', () => {
  it('is 404', async () => {
    const t = await buildTestApp(DIALECTS[0] as (typeof DIALECTS)[number]);
    try {
      const get = await t.app.inject({ url: `${URL}?hub.mode=subscribe&hub.challenge=1&hub.verify_token=x` });
      expect(get.statusCode).toBe(404);
      const post = await t.app.inject({ method: 'POST', url: URL, payload: 'not json' });
      expect(post.statusCode).toBe(404);
    } finally {
      await t.close();
    }
  });
});
