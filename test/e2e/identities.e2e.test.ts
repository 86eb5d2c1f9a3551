import { createHmac } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakePlatform } from '../channels/fake-platform.js';
import { DIALECTS } from '../helpers/dialects.js';
import { type Browser, launchBrowser, screenshot } from './helpers/browser.js';
import { E2E_ADMIN_KEY, type RunningServer, startServer } from './helpers/server.js';

interface Created {
  id: string;
}
interface IdentityBody {
  id: string;
  channel: string;
  external_id: string;
  customer_id: string;
  verified: boolean;
  verified_via: string | null;
  role_override: string | null;
  aliases: string[];
}

const BSUID = 'US.13491208655302741918';
const WHATSAPP_APP_SECRET = 'e2e-whatsapp-app-secret';
const PEGGY_USER_ID = 'US.20260000000000000001';

/** A WhatsApp text message from Peggy as Meta sends it: her number and her user id (BSUID) together. */
function whatsappMessage() {
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
              metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
              contacts: [{ profile: { name: 'Peggy' }, wa_id: '16505550003', user_id: PEGGY_USER_ID }],
              messages: [
                {
                  from: '16505550003',
                  from_user_id: PEGGY_USER_ID,
                  id: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA1',
                  timestamp: '1749416383',
                  type: 'text',
                  text: { body: 'Hello!' },
                },
              ],
            },
          },
        ],
      },
    ],
  };
}

/** Identities that change, in the browser: how proven, aliases, moving, merging and undoing it. */
describe.each(DIALECTS)('identities that change in the dashboard on $name', (dialect) => {
  const shots = dialect === DIALECTS[0];
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let steve: Created;
  let peggy: Created;
  let natasha: Created;
  let telegram: Created;
  let natashaIdentities: string[] = [];
  const graphApi = new FakePlatform();

  const row = (label: string) => page.locator('tr', { has: page.getByRole('button', { name: `Unlink ${label}` }) });
  const openCustomer = async (id: string, name: string) => {
    await page.goto(`${server.baseUrl}/customers/${id}`);
    await page.getByRole('heading', { name, level: 1 }).waitFor();
  };
  const identitiesOf = async (customerId: string) =>
    (await server.api('GET', `/v1/customers/${customerId}/identities`)).body as IdentityBody[];
  const lookup = (channel: string, externalId: string) =>
    server.api('GET', `/v1/customers/lookup/identity?channel=${channel}&external_id=${encodeURIComponent(externalId)}`);

  beforeAll(async () => {
    await graphApi.start();
    server = await startServer(dialect, {
      WHATSAPP_VERIFY_TOKEN: 'e2e-verify-token',
      WHATSAPP_APP_SECRET,
      WHATSAPP_ACCESS_TOKEN: 'e2e-access-token',
      WHATSAPP_API_BASE: `${graphApi.baseUrl}/v21.0`,
    });
    const customer = async (email: string, name: string, metadata: Record<string, unknown> = {}) =>
      (await server.api('POST', '/v1/customers', { email, name, metadata })).body as Created;
    steve = await customer('steve@acme.com', 'Steve Rogers', { plan: 'pro' });
    peggy = await customer('peggy@ssr.example', 'Peggy Carter');
    natasha = await customer('natasha@shield.example', 'Natasha Romanoff', { plan: 'free', team: 'blue' });
    const link = async (customerId: string, body: Record<string, unknown>) => {
      const linked = await server.api('POST', `/v1/customers/${customerId}/identities`, body);
      expect(linked.status).toBe(201);
      return linked.body as Created;
    };

    // Steve's Telegram is proven by a claim code, his WhatsApp by the operator, his Slack not at all.
    telegram = await link(steve.id, { channel: 'telegram', external_id: '12345' });
    const code = (await server.api('POST', `/v1/customers/${steve.id}/identities/${telegram.id}/claim-code`)).body as {
      code: string;
    };
    const runtime = (await server.api('POST', '/v1/api-keys', { name: 'bot', scope: 'runtime' })).body as {
      key: string;
    };
    const claim = await server.api(
      'POST',
      '/v1/customers/identities/claim',
      { channel: 'telegram', external_id: '12345', code: code.code },
      runtime.key,
    );
    expect(claim.status).toBe(200);
    const whatsapp = await link(steve.id, { channel: 'whatsapp', external_id: '+1 415 555 2671' });
    await server.api('PATCH', `/v1/customers/${steve.id}/identities/${whatsapp.id}`, { verified: true });
    await link(steve.id, { channel: 'slack', external_id: 'U024BE7LH' });

    natashaIdentities = [
      (await link(natasha.id, { channel: 'telegram', external_id: '777' })).id,
      (await link(natasha.id, { channel: 'email', external_id: 'Natasha@Shield.example' })).id,
    ];
    await link(peggy.id, { channel: 'telegram', external_id: '555' });
    await link(peggy.id, { channel: 'whatsapp', external_id: '+16505550003' });

    browser = await launchBrowser();
    page = browser.page;
    await page.goto(server.baseUrl);
    await page.getByLabel('API key').fill(E2E_ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Customers', level: 1 }).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await graphApi.stop();
  });

  it('shows how each link was proven', async () => {
    await openCustomer(steve.id, 'Steve Rogers');
    const proof = (label: string) => row(label).locator('[data-verified-via]');
    expect(await proof('telegram 12345').getAttribute('data-verified-via')).toBe('claim_code');
    // Said in words (to a screen reader too), not only by colour.
    expect(await proof('telegram 12345').textContent()).toBe('Proven by Claim code');
    expect(await proof('whatsapp +14155552671').getAttribute('data-verified-via')).toBe('operator');
    expect(await proof('whatsapp +14155552671').textContent()).toBe('Proven by Operator');
    expect(await proof('slack U024BE7LH').count()).toBe(0);
    expect((await row('slack U024BE7LH').textContent()) ?? '').toContain('Unverified');

    // Unverify and verify again from here: the operator is the proof now.
    await page.getByRole('button', { name: 'Verify slack U024BE7LH', exact: true }).click();
    await proof('slack U024BE7LH').waitFor();
    expect(await proof('slack U024BE7LH').getAttribute('data-verified-via')).toBe('operator');
    const slack = (await identitiesOf(steve.id)).find((i) => i.channel === 'slack');
    expect(slack).toMatchObject({ verified: true, verified_via: 'operator' });
  });

  it('shows a link the chat platform vouched for, with the user id it learnt as an alias', async () => {
    const raw = JSON.stringify(whatsappMessage());
    const signature = `sha256=${createHmac('sha256', WHATSAPP_APP_SECRET).update(raw).digest('hex')}`;
    const delivered = await fetch(`${server.baseUrl}/v1/channels/whatsapp/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
      body: raw,
    });
    expect(delivered.status).toBe(200);

    await openCustomer(peggy.id, 'Peggy Carter');
    const proof = row('whatsapp +16505550003').locator('[data-verified-via]');
    await proof.waitFor();
    expect(await proof.getAttribute('data-verified-via')).toBe('platform');
    expect(await proof.textContent()).toBe('Proven by Platform');
    await page.getByRole('list', { name: 'Aliases of whatsapp +16505550003' }).getByText(PEGGY_USER_ID).waitFor();
    // The history says who acted and that the platform vouched for it.
    const added = page.getByRole('region', { name: 'History' }).locator('li', { hasText: 'Alias added' });
    expect((await added.textContent()) ?? '').toContain('vouched for by the platform');
  });

  it('adds an alias under the external id, which lookups then answer', async () => {
    await openCustomer(steve.id, 'Steve Rogers');
    await page.getByRole('button', { name: 'Add alias to whatsapp +14155552671' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add an alias to whatsapp +14155552671' });
    await dialog.getByText('WhatsApp user id (BSUID)').waitFor();
    // Not a phone number and not a BSUID: the API's 422 at the field.
    await dialog.getByLabel('Alias').fill('not a number');
    await dialog.getByRole('button', { name: 'Add alias' }).click();
    await dialog.locator('.field__error').waitFor();
    expect(await dialog.getByLabel('Alias').getAttribute('aria-invalid')).toBe('true');

    await dialog.getByLabel('Alias').fill('us.13491208655302741918');
    await dialog.getByRole('button', { name: 'Add alias' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const aliases = page.getByRole('list', { name: 'Aliases of whatsapp +14155552671' });
    await aliases.getByText(BSUID).waitFor();
    const found = await lookup('whatsapp', BSUID);
    expect(found).toMatchObject({ status: 200, body: { customer_id: steve.id, external_id: '+14155552671' } });
    await page.getByRole('region', { name: 'History' }).getByText('Alias added').waitFor();
  });

  it('refuses an alias that is already someone else’s, linking to them', async () => {
    await page.getByRole('button', { name: 'Add alias to telegram 12345' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add an alias to telegram 12345' });
    await dialog.getByLabel('Alias').fill('555');
    await dialog.getByRole('button', { name: 'Add alias' }).click();
    const alert = dialog.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('Open the customer it is linked to');
    expect((await identitiesOf(steve.id)).find((i) => i.id === telegram.id)?.aliases).toEqual([]);
    await alert.getByRole('link', { name: 'Open the customer it is linked to' }).click();
    await page.getByRole('heading', { name: 'Peggy Carter', level: 1 }).waitFor();
    expect(page.url()).toBe(`${server.baseUrl}/customers/${peggy.id}`);
  });

  it('removes an alias after a confirmation', async () => {
    await openCustomer(steve.id, 'Steve Rogers');
    await page.getByRole('button', { name: `Remove alias ${BSUID} of whatsapp +14155552671` }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Remove this alias?' });
    await dialog.getByText('will no longer lead to whatsapp +14155552671').waitFor();
    await dialog.getByRole('button', { name: 'Remove alias' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.getByRole('list', { name: 'Aliases of whatsapp +14155552671' }).count()).toBe(0);
    expect((await lookup('whatsapp', BSUID)).status).toBe(404);
    await page.getByRole('region', { name: 'History' }).getByText('Alias removed').waitFor();

    // Back again, for the screenshot and the merge below.
    const whatsapp = (await identitiesOf(steve.id)).find((i) => i.channel === 'whatsapp');
    const added = await server.api('POST', `/v1/customers/${steve.id}/identities/${whatsapp?.id}/aliases`, {
      external_id: BSUID,
    });
    expect(added.status).toBe(201);
  });

  it('moves an identity to a customer found by name: unverified on arrival, the lookup answers the new owner', async () => {
    await openCustomer(steve.id, 'Steve Rogers');
    await page.getByRole('button', { name: 'Move telegram 12345 to another customer' }).click();
    const dialog = page.getByRole('dialog', { name: 'Move telegram 12345' });
    // The customer it is on is not offered.
    await dialog.getByRole('button', { name: /Peggy Carter/ }).waitFor();
    expect(await dialog.getByRole('button', { name: /Steve Rogers/ }).count()).toBe(0);
    await dialog.getByLabel('Move to customer').fill('peggy');
    await dialog.getByRole('button', { name: /Peggy Carter/ }).click();
    await dialog.getByText('It arrives unverified and without a role').waitFor();
    await dialog.getByRole('button', { name: 'Move to Peggy Carter' }).click();
    await dialog.waitFor({ state: 'hidden' });

    await page.getByText('Moved telegram 12345 to Peggy Carter (unverified).').waitFor();
    expect(await row('telegram 12345').count()).toBe(0);
    const moved = (await identitiesOf(peggy.id)).find((i) => i.id === telegram.id);
    expect(moved).toMatchObject({ customer_id: peggy.id, verified: false, verified_via: null, role_override: null });
    expect(await lookup('telegram', '12345')).toMatchObject({ status: 200, body: { customer_id: peggy.id } });

    await page.getByRole('link', { name: 'Open Peggy Carter' }).click();
    await page.getByRole('heading', { name: 'Peggy Carter', level: 1 }).waitFor();
    await row('telegram 12345').waitFor();
    await page.getByRole('region', { name: 'History' }).getByText('Identity moved').waitFor();
  });

  it('moves one back keeping its verification when asked', async () => {
    await server.api('PATCH', `/v1/customers/${peggy.id}/identities/${telegram.id}`, { verified: true });
    await page.reload();
    await page.getByRole('button', { name: 'Move telegram 12345 to another customer' }).click();
    const dialog = page.getByRole('dialog', { name: 'Move telegram 12345' });
    await dialog.getByLabel('Move to customer').fill('steve');
    await dialog.getByRole('button', { name: /Steve Rogers/ }).click();
    await dialog.getByLabel(/Keep it verified/).check();
    expect(await dialog.getByText('It arrives unverified').count()).toBe(0);
    await dialog.getByRole('button', { name: 'Move to Steve Rogers' }).click();
    await page.getByText('Moved telegram 12345 to Steve Rogers.').waitFor();
    const back = (await identitiesOf(steve.id)).find((i) => i.id === telegram.id);
    expect(back).toMatchObject({ verified: true, verified_via: 'operator' });
  });

  it('merges a customer into another only after showing the preview', async () => {
    await openCustomer(natasha.id, 'Natasha Romanoff');
    await page.getByRole('button', { name: 'Merge into…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Merge Natasha Romanoff into…' });
    expect(await dialog.getByRole('button', { name: /^Merge/ }).isDisabled()).toBe(true);
    await dialog.getByLabel('Customer to keep').fill('acme');
    await dialog.getByRole('button', { name: /Steve Rogers/ }).click();

    const preview = dialog.getByRole('region', { name: 'Merge preview' });
    await preview.waitFor();
    // The target as it would be: its name and email, metadata merged with the target's keys winning.
    expect(await preview.locator('[data-preview="name"]').textContent()).toBe('Steve Rogers');
    expect(await preview.locator('[data-preview="email"]').textContent()).toBe('steve@acme.com');
    expect(JSON.parse((await preview.locator('[data-preview="metadata"]').textContent()) ?? '')).toEqual({
      plan: 'pro',
      team: 'blue',
    });
    const moving = preview.getByRole('list', { name: 'Identities that move' }).getByRole('listitem');
    expect(await moving.count()).toBe(2);
    expect(await moving.allInnerTexts()).toEqual([
      expect.stringContaining('777'),
      expect.stringContaining('natasha@shield.example'),
    ]);
    await screenshot(page, 'dashboard-merge-preview', shots, false);
    // The preview wrote nothing.
    expect((await server.api('GET', `/v1/customers/${natasha.id}`)).status).toBe(200);
    expect((await identitiesOf(steve.id)).length).toBe(3);

    await dialog.getByRole('button', { name: 'Merge into Steve Rogers' }).click();
    await page.getByRole('heading', { name: 'Steve Rogers', level: 1 }).waitFor();
    await page.getByText('was merged into this one').waitFor();
    await row('telegram 777').waitFor();
    await row('email natasha@shield.example').waitFor();
    const gone = await server.api('GET', `/v1/customers/${natasha.id}`);
    expect(gone).toMatchObject({ status: 410, body: { merged_into: steve.id } });
    expect((await identitiesOf(steve.id)).map((i) => i.id)).toEqual(expect.arrayContaining(natashaIdentities));
  });

  it('opens a merged customer’s page at the customer it was merged into', async () => {
    await page.goto(`${server.baseUrl}/customers/${natasha.id}`);
    await page.getByRole('heading', { name: 'Steve Rogers', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/customers/${steve.id}`);
    await page.getByText(`Customer ${natasha.id.slice(0, 8)}… was merged into this one`).waitFor();
  });

  it('undoes the merge from the history', async () => {
    const history = page.getByRole('region', { name: 'History' });
    const merged = history.locator('li', { hasText: 'Customers merged' });
    await merged.getByText('natasha@shield.example merged into steve@acme.com').waitFor();
    await screenshot(page, 'dashboard-customer-merged', shots);
    await merged.getByRole('button', { name: 'Undo merge' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Undo this merge?' });
    await dialog.getByRole('button', { name: 'Undo merge' }).click();
    await dialog.waitFor({ state: 'hidden' });

    await page.getByText('Natasha Romanoff is back, with 2 identities.').waitFor();
    await expect.poll(() => row('telegram 777').count()).toBe(0);
    await merged.getByText('Undone').waitFor();
    expect(await merged.getByRole('button', { name: 'Undo merge' }).count()).toBe(0);
    const back = await server.api('GET', `/v1/customers/${natasha.id}`);
    expect(back).toMatchObject({ status: 200, body: { email: 'natasha@shield.example', name: 'Natasha Romanoff' } });
    expect((await identitiesOf(natasha.id)).map((i) => i.id).sort()).toEqual([...natashaIdentities].sort());

    await page.getByRole('link', { name: 'Open Natasha Romanoff' }).click();
    await page.getByRole('heading', { name: 'Natasha Romanoff', level: 1 }).waitFor();
    await page.getByRole('region', { name: 'History' }).getByText('Merge undone').waitFor();
  });

  it('says whose it is when linking an identity someone else has, with a link there', async () => {
    await openCustomer(steve.id, 'Steve Rogers');
    const form = page.getByRole('form', { name: 'Link an identity' });
    await form.getByLabel('Channel').fill('telegram');
    await form.getByLabel('External id').fill('555');
    await form.getByRole('button', { name: 'Link identity' }).click();
    const alert = form.getByRole('alert');
    await alert.getByRole('link', { name: 'Open the customer it is linked to' }).click();
    await page.getByRole('heading', { name: 'Peggy Carter', level: 1 }).waitFor();
    expect((await identitiesOf(steve.id)).some((i) => i.external_id === '555')).toBe(false);
  });

  it('fits a 375 px wide phone, aliases and all', async () => {
    await openCustomer(steve.id, 'Steve Rogers');
    await page.setViewportSize({ width: 375, height: 812 });
    await page.getByRole('list', { name: 'Aliases of whatsapp +14155552671' }).waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    const move = await page
      .getByRole('button', { name: 'Move whatsapp +14155552671 to another customer' })
      .boundingBox();
    expect(move && move.x >= 0 && move.x + move.width <= 375).toBe(true);
    await page.evaluate("document.getElementById('identities-heading').scrollIntoView({ block: 'start' })");
    await screenshot(page, 'dashboard-identities-mobile', shots, false);
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(browser.problems).toEqual([]);
  });
});
