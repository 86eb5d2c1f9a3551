import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity, generateCode } from '../helpers/factories.js';

const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const URL = '/v1/channels/slack/commands';

let triggerNo = 0;

/**
 * A slash command's form body as Slack sends it (api.slack.com/interactivity/slash-commands);
 * every command has its own trigger_id, so no two are the same bytes.
 */
function commandBody(userId: string, text: string, command = '/claim') {
  return new URLSearchParams({
    token: 'gIkuvaNzQIHg97ATvDxqgjtO',
    team_id: 'T0001',
    team_domain: 'acme',
    enterprise_id: 'E0001',
    enterprise_name: 'Acme',
    channel_id: 'D2147483705',
    channel_name: 'directmessage',
    user_id: userId,
    user_name: 'steve',
    command,
    text,
    api_app_id: 'A123456',
    is_enterprise_install: 'false',
    response_url: 'https://hooks.slack.com/commands/1234/5678',
    trigger_id: `13345224609.738474920.${++triggerNo}`,
  }).toString();
}

function sign(body: string, timestamp: number, secret = SIGNING_SECRET) {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

const now = () => Math.floor(Date.now() / 1000);

describe.each(DIALECTS)('Slack slash command on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect, { SLACK_SIGNING_SECRET: SIGNING_SECRET, RATE_LIMIT_CLAIM_PER_IDENTITY: '7' });
  });
  afterAll(() => t.close());

  const post = (body: string, headers: Record<string, string> = {}) => {
    const timestamp = now();
    return t.app.inject({
      method: 'POST',
      url: URL,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': sign(body, timestamp),
        ...headers,
      },
      payload: body,
    });
  };

  async function unverifiedIdentity(userId: string) {
    const customer = await createCustomer(t.app);
    const identity = await createIdentity(t.app, customer.id, { channel: 'slack', external_id: userId });
    const { code } = await generateCode(t.app, customer.id, identity.id);
    return { customer, identity, code };
  }

  const lookup = async (userId: string) =>
    (
      await t.app.inject({ url: `/v1/customers/lookup/identity?channel=slack&external_id=${userId}`, headers: t.admin })
    ).json<{ verified: boolean; role_override: string | null }>();

  it('verifies the sending user and answers ephemerally', async () => {
    const { code, customer } = await unverifiedIdentity('U0STEVE01');
    // Slack user ids are compared uppercased; the code is case-insensitive.
    const response = await post(commandBody('u0steve01', ` ${code.toLowerCase()} `));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ response_type: 'ephemeral', text: expect.stringMatching(/^You're verified/) });
    expect(await lookup('U0STEVE01')).toMatchObject({ verified: true, role_override: 'owner' });
    const audit = await t.app.inject({ url: `/v1/audit?customer_id=${customer.id}`, headers: t.admin });
    const events = audit.json<{ items: { action: string; actor: string }[] }>().items;
    expect(events.find((e) => e.action === 'claim.succeeded')?.actor).toBe('slack-webhook');
  });

  it('refuses a forged, stale or missing signature with 401 and changes nothing', async () => {
    const { code } = await unverifiedIdentity('U0FORGED1');
    const body = commandBody('U0FORGED1', code);
    const stale = now() - 6 * 60;
    const future = now() + 6 * 60;
    const attempts: Record<string, string>[] = [
      { 'x-slack-signature': sign(body, now(), 'another-secret') },
      { 'x-slack-request-timestamp': String(stale), 'x-slack-signature': sign(body, stale) },
      { 'x-slack-request-timestamp': String(future), 'x-slack-signature': sign(body, future) },
      { 'x-slack-signature': sign(commandBody('U0FORGED1', 'ZZZZZZ'), now()) },
      { 'x-slack-signature': '' },
      { 'x-slack-request-timestamp': 'soon' },
    ];
    for (const headers of attempts) {
      const response = await post(body, headers);
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({ detail: 'Invalid Slack signature' });
    }
    expect(await lookup('U0FORGED1')).toMatchObject({ verified: false });
    // The genuine request still works afterwards: the refused ones used up nothing.
    expect((await post(body)).json().text).toMatch(/^You're verified/);
  });

  it('gives the same answer for a foreign and a made-up code, and usage help without one', async () => {
    const { code } = await unverifiedIdentity('U0OWNER01');
    const foreign = (await post(commandBody('U0OTHER01', code))).json();
    const madeUp = (await post(commandBody('U0OTHER01', 'ZZZZZZ'))).json();
    expect(foreign).toEqual(madeUp);
    expect(foreign.text).toMatch(/didn't work/);
    const usage = (await post(commandBody('U0OTHER01', '   '))).json();
    expect(usage).toEqual({ response_type: 'ephemeral', text: expect.stringContaining('/claim followed by') });
    expect(await lookup('U0OWNER01')).toMatchObject({ verified: false });
  });

  it('tells a sender who keeps guessing to wait', async () => {
    const texts: string[] = [];
    for (let i = 0; i < 8; i++) texts.push((await post(commandBody('U0GUESSER', 'ZZZZZZ'))).json().text);
    expect(texts[6]).toMatch(/didn't work/);
    expect(texts[7]).toMatch(/^Too many attempts\. Please wait \d+ minutes?/);
  });

  it('answers a replayed request (same timestamp and body) with nothing, and redeems nothing', async () => {
    const { code } = await unverifiedIdentity('U0REPLAY1');
    const timestamp = now();
    const wrong = commandBody('U0REPLAY1', 'ZZZZZZ');
    const signed = { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': sign(wrong, timestamp) };
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push((await post(wrong, signed)).json());
    expect(answers[0]).toEqual({ response_type: 'ephemeral', text: expect.stringMatching(/didn't work/) });
    expect(answers.slice(1)).toEqual(Array(5).fill({}));
    // One attempt of five spent: the code still works, once.
    const right = commandBody('U0REPLAY1', code);
    const rightSigned = { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': sign(right, timestamp) };
    expect((await post(right, rightSigned)).json().text).toMatch(/^You're verified/);
    expect((await post(right, rightSigned)).json()).toEqual({});
    expect(await lookup('U0REPLAY1')).toMatchObject({ verified: true });
  });

  it("answers Slack's ssl_check with an empty 200", async () => {
    const response = await post('ssl_check=1&token=gIkuvaNzQIHg97ATvDxqgjtO');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({});
  });

  it('keeps JSON parsing everywhere else', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/customers',
      headers: { ...t.admin, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'email=a@b.c',
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().detail[0].type).toBe('json_invalid');
  });
});

describe('Slack command when not configured', () => {
  it('is 404', async () => {
    const t = await buildTestApp(DIALECTS[0] as (typeof DIALECTS)[number]);
    try {
      const body = commandBody('U1', 'ABCDEF');
      const response = await t.app.inject({
        method: 'POST',
        url: URL,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: body,
      });
      expect(response.statusCode).toBe(404);
    } finally {
      await t.close();
    }
  });
});
