import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/dialects.js';
import { type Browser, launchBrowser, screenshot } from './helpers/browser.js';
import { E2E_ADMIN_KEY, type RunningServer, startServer } from './helpers/server.js';

interface Created {
  id: string;
}
interface Issued {
  id: string;
  code: string;
  channel: string;
  external_id: string;
}
interface LinkRequestBody {
  id: string;
  status: string;
  customer_id: string | null;
  identity_id: string | null;
}
interface IdentityBody {
  id: string;
  channel: string;
  external_id: string;
  verified: boolean;
  verified_via: string | null;
}

/** Strangers asking to be known, in the browser: the count, redeeming codes, approving, rejecting, history. */
describe.each(DIALECTS)('link requests in the dashboard on $name', (dialect) => {
  const shots = dialect === DIALECTS[0];
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let runtimeKey = '';
  let tony: Created;
  let peter: Issued;
  let wanda: Issued;
  let loki: Issued;
  let hydra: Issued;
  let bucky: Issued;

  const ask = async (channel: string, externalId: string, displayName?: string) => {
    const made = await server.api(
      'POST',
      '/v1/link-requests',
      { channel, external_id: externalId, ...(displayName ? { display_name: displayName } : {}) },
      runtimeKey,
    );
    expect(made.status).toBe(201);
    return made.body as Issued;
  };
  const requestOf = async (id: string) => (await server.api('GET', `/v1/link-requests/${id}`)).body as LinkRequestBody;
  const identitiesOf = async (customerId: string) =>
    (await server.api('GET', `/v1/customers/${customerId}/identities`)).body as IdentityBody[];
  const pendingBadge = () => page.getByRole('navigation', { name: 'Main' }).locator('[data-pending-count]');
  const redeemBox = () => page.getByRole('region', { name: 'Redeem a code' });
  const rowOf = (id: string) => page.locator(`tr[data-link-request="${id}"]`);
  const openPage = async (query = '') => {
    await page.goto(`${server.baseUrl}/link-requests${query}`);
    await page.getByRole('heading', { name: 'Link requests', level: 1 }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Loading link requests' }).waitFor({ state: 'detached' });
  };
  const findCode = async (code: string) => {
    await redeemBox().getByLabel('Link code').fill(code);
    await redeemBox().getByRole('button', { name: 'Find request' }).click();
  };

  beforeAll(async () => {
    // Webhooks to loopback allowed, never delivered: the webhook form's test only subscribes.
    server = await startServer(dialect, { WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_DELIVERY_ENABLED: 'false' });
    runtimeKey = (
      (await server.api('POST', '/v1/api-keys', { name: 'agent', scope: 'runtime' })).body as { key: string }
    ).key;
    tony = (await server.api('POST', '/v1/customers', { email: 'tony@stark.example', name: 'Tony Stark' }))
      .body as Created;
    peter = await ask('telegram', '4242', 'Peter');
    wanda = await ask('whatsapp', '+1 650 555 0100', 'Wanda');
    loki = await ask('slack', 'U0STRANGE', 'Loki');
    hydra = await ask('telegram', '9090', 'Hydra');
    bucky = await ask('whatsapp', '+1 650 555 0199', 'Bucky');

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
  });

  it('counts the pending requests in the top bar, and follows new ones', async () => {
    await pendingBadge().waitFor();
    expect(await pendingBadge().getAttribute('data-pending-count')).toBe('5');
    const link = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Link requests/ });
    expect(await link.textContent()).toBe('Link requests5, 5 pending');
    const extra = await ask('telegram', '31337');
    await link.click();
    await page.getByRole('heading', { name: 'Link requests', level: 1 }).waitFor();
    expect(await link.getAttribute('aria-current')).toBe('page');
    await page.locator('[data-pending-count="6"]').waitFor();
    // Rejected through the API: the next navigation counts it.
    expect((await server.api('POST', `/v1/link-requests/${extra.id}/reject`)).status).toBe(200);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
    await page.locator('[data-pending-count="5"]').waitFor();
  });

  it('redeems a code onto an existing customer: who asked first, then linked and verified', async () => {
    await openPage();
    // A code nobody has: the same answer as any failure, said plainly; a typo is caught before asking.
    await findCode('ABCD');
    await redeemBox().getByText('A link code is 8 letters and digits').waitFor();
    await findCode(peter.code === 'AAAAAAAA' ? 'BBBBBBBB' : 'AAAAAAAA');
    await redeemBox().getByText('No pending request has this code').waitFor();
    expect(await redeemBox().getByLabel('Link code').getAttribute('aria-invalid')).toBe('true');

    // As the person reads it: lower case, with a hyphen.
    await findCode(`${peter.code.slice(0, 4).toLowerCase()}-${peter.code.slice(4)}`);
    const summary = redeemBox().getByRole('definition');
    await summary.first().waitFor();
    const shown = (await redeemBox().locator('dl').textContent()) ?? '';
    expect(shown).toContain('telegram');
    expect(shown).toContain('4242');
    expect(shown).toContain('Peter');
    // Looking it up spent nothing.
    expect((await requestOf(peter.id)).status).toBe('pending');

    await redeemBox().getByLabel('Customer', { exact: true }).fill('tony');
    await redeemBox()
      .getByRole('button', { name: /Tony Stark/ })
      .click();
    await screenshot(page, 'dashboard-redeem-code', shots);
    await redeemBox().getByRole('button', { name: 'Link and verify' }).click();
    await redeemBox().getByText('is linked to Tony Stark, verified by its link code').waitFor();

    const request = await requestOf(peter.id);
    expect(request).toMatchObject({ status: 'approved', customer_id: tony.id });
    const identity = (await identitiesOf(tony.id)).find((i) => i.external_id === '4242');
    expect(identity).toMatchObject({ channel: 'telegram', verified: true, verified_via: 'link_request' });
    await rowOf(peter.id).and(page.locator('[data-status="approved"]')).waitFor();
    // The customer's name is read after the list (a customer id first, then its name).
    await rowOf(peter.id).filter({ hasText: 'Tony Stark' }).waitFor();
    await page.locator('[data-pending-count="4"]').waitFor();
  });

  it('redeems a code onto a new customer made there and then', async () => {
    await openPage();
    await findCode(wanda.code);
    await redeemBox().locator('dl').getByText('Wanda').waitFor();
    await redeemBox().getByLabel('A new customer').check();
    // The email of a customer that exists already: said at the field, nothing linked.
    await redeemBox().getByLabel('Email').fill('tony@stark.example');
    await redeemBox().getByLabel('Name').fill('Wanda Maximoff');
    await redeemBox().getByRole('button', { name: 'Link and verify' }).click();
    await redeemBox().getByText('A customer with this email already exists').waitFor();
    expect((await requestOf(wanda.id)).status).toBe('pending');

    await redeemBox().getByLabel('Email').fill('wanda@westview.example');
    await redeemBox().getByRole('button', { name: 'Link and verify' }).click();
    await redeemBox().getByText('is linked to Wanda Maximoff, verified by its link code').waitFor();
    const request = await requestOf(wanda.id);
    expect(request.status).toBe('approved');
    const customer = (await server.api('GET', `/v1/customers/${request.customer_id}`)).body as {
      email: string;
      name: string;
    };
    expect(customer).toMatchObject({ email: 'wanda@westview.example', name: 'Wanda Maximoff' });
    expect((await identitiesOf(request.customer_id as string))[0]).toMatchObject({
      channel: 'whatsapp',
      external_id: '+16505550100',
      verified_via: 'link_request',
    });
    await redeemBox().getByRole('link', { name: 'Open Wanda Maximoff' }).click();
    await page.getByRole('heading', { name: 'Wanda Maximoff', level: 1 }).waitFor();
  });

  it('approves without a code, saying plainly that the link is unverified', async () => {
    await openPage('?status=pending');
    await page.getByRole('button', { name: 'Approve slack U0STRANGE without a code' }).click();
    const dialog = page.getByRole('dialog', { name: 'Approve without a code' });
    await dialog.waitFor();
    const warning = (await dialog.locator('.notice--warning').textContent()) ?? '';
    expect(warning).toContain('nothing proves that slack U0STRANGE belongs to the person');
    expect(warning).toContain('linked unverified');
    // Nobody chosen yet: asked for, nothing sent.
    await dialog.getByRole('button', { name: 'Link unverified' }).click();
    await dialog.getByText('Choose the customer first.').waitFor();
    expect((await requestOf(loki.id)).status).toBe('pending');

    await dialog.getByLabel('Customer', { exact: true }).fill('stark');
    await dialog.getByRole('button', { name: /Tony Stark/ }).click();
    await dialog.getByRole('button', { name: 'Link unverified' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByText('slack U0STRANGE is linked to Tony Stark, unverified.').waitFor();
    expect(await requestOf(loki.id)).toMatchObject({ status: 'approved', customer_id: tony.id });
    const lookup = await server.api('GET', '/v1/customers/lookup/identity?channel=slack&external_id=U0STRANGE');
    expect(lookup).toMatchObject({ status: 200, body: { customer_id: tony.id, verified: false, verified_via: null } });

    // The customer's page shows it unverified.
    await page.getByRole('link', { name: 'Open Tony Stark' }).click();
    await page.getByRole('heading', { name: 'Tony Stark', level: 1 }).waitFor();
    const row = page.locator('tr', { has: page.getByRole('button', { name: 'Unlink slack U0STRANGE' }) });
    expect((await row.textContent()) ?? '').toContain('Unverified');
    expect(await row.locator('[data-verified-via]').count()).toBe(0);
  });

  it('rejects after a confirmation, and the code stops working', async () => {
    await openPage();
    await page.getByRole('button', { name: 'Reject telegram 9090' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Reject this link request?' });
    expect((await confirm.textContent()) ?? '').toContain('telegram 9090 (Hydra) will not be linked');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'hidden' });
    expect((await requestOf(hydra.id)).status).toBe('pending');

    await page.getByRole('button', { name: 'Reject telegram 9090' }).click();
    await confirm.getByRole('button', { name: 'Reject request' }).click();
    await confirm.waitFor({ state: 'hidden' });
    await page.getByText('The request of telegram 9090 is rejected.').waitFor();
    await rowOf(hydra.id).and(page.locator('[data-status="rejected"]')).waitFor();
    expect(await page.getByRole('button', { name: 'Reject telegram 9090' }).count()).toBe(0);
    expect((await requestOf(hydra.id)).status).toBe('rejected');
    await findCode(hydra.code);
    await redeemBox().getByText('No pending request has this code').waitFor();
  });

  it('shows the history by status and channel, kept in the address, in pages', async () => {
    await openPage();
    await screenshot(page, 'dashboard-link-requests', shots);
    const statuses = async () =>
      page.locator('tbody tr[data-link-request]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')));
    const ids = async () =>
      page
        .locator('tbody tr[data-link-request]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-link-request')));

    await page.getByLabel('Status').selectOption('approved');
    await page.waitForURL(/\/link-requests\?status=approved$/);
    await rowOf(bucky.id).waitFor({ state: 'detached' });
    await rowOf(loki.id).waitFor();
    expect((await ids()).sort()).toEqual([peter.id, wanda.id, loki.id].sort());
    expect(new Set(await statuses())).toEqual(new Set(['approved']));

    await page.getByLabel('Channel').selectOption('whatsapp');
    await page.waitForURL(/status=approved&channel=whatsapp$/);
    await rowOf(peter.id).waitFor({ state: 'detached' });
    await rowOf(wanda.id).waitFor();
    expect(await ids()).toEqual([wanda.id]);

    await page.getByLabel('Status').selectOption('pending');
    await rowOf(bucky.id).waitFor();
    expect(await ids()).toEqual([bucky.id]);

    await page.getByLabel('Status').selectOption('rejected');
    await page.getByLabel('Channel').selectOption('');
    await rowOf(hydra.id).waitFor();
    expect(new Set(await statuses())).toEqual(new Set(['rejected']));
    // A bookmarked filter opens as it was left.
    await openPage('?status=expired');
    expect(await page.getByLabel('Status').inputValue()).toBe('expired');
    await page.getByText('No request matches these filters.').waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.waitForURL(/\/link-requests$/);
    await rowOf(bucky.id).waitFor();

    // 27 pending telegram requests: 25 on the first page, the rest on the next, none twice.
    for (let n = 0; n < 27; n += 1) await ask('telegram', String(600_000 + n));
    await openPage('?status=pending&channel=telegram');
    const first = await ids();
    expect(first).toHaveLength(25);
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name: 'Older →' }).click();
    await page.getByText('Page 2').waitFor();
    await rowOf(first[0] as string).waitFor({ state: 'detached' });
    const second = await ids();
    expect(second).toHaveLength(2);
    expect(second.filter((id) => first.includes(id))).toEqual([]);
    await page.getByRole('button', { name: '← Newer' }).click();
    await rowOf(first[0] as string).waitFor();
    await page.locator('[data-pending-count="28"]').waitFor();
  });

  it("shows the new proofs on the customer's page: Link code, and Linked from another verified account", async () => {
    // Peter's Telegram (verified by its link code) links Tony's Slack on its own, with a new request's code.
    const slack = await ask('slack', 'U0TONY');
    const linked = await server.api(
      'POST',
      '/v1/customers/identities/link',
      { channel: 'telegram', external_id: '4242', code: slack.code },
      runtimeKey,
    );
    expect(linked.status).toBe(201);

    await page.goto(`${server.baseUrl}/customers/${tony.id}`);
    await page.getByRole('heading', { name: 'Tony Stark', level: 1 }).waitFor();
    const proof = (label: string) =>
      page.locator('tr', { has: page.getByRole('button', { name: `Unlink ${label}` }) }).locator('[data-verified-via]');
    expect(await proof('telegram 4242').getAttribute('data-verified-via')).toBe('link_request');
    expect(await proof('telegram 4242').textContent()).toBe('Proven by Link code');
    expect(await proof('slack U0TONY').getAttribute('data-verified-via')).toBe('linked_identity');
    expect(await proof('slack U0TONY').textContent()).toBe('Proven by Linked from another verified account');
    // The history names the decisions.
    await page.getByRole('region', { name: 'History' }).getByText('Link request approved').first().waitFor();
    await screenshot(page, 'dashboard-customer-link-proofs', shots);
  });

  it('offers the link request events in the webhook form', async () => {
    await page.goto(`${server.baseUrl}/webhooks`);
    await page.getByRole('button', { name: 'New webhook' }).click();
    const dialog = page.getByRole('dialog', { name: 'New webhook' });
    await dialog.getByLabel('Every event, including types added later').uncheck();
    for (const type of ['link_request.created', 'link_request.approved', 'link_request.rejected']) {
      await dialog.getByLabel(type, { exact: true }).check();
    }
    await dialog.getByLabel('URL').fill('http://127.0.0.1:9/identity');
    await dialog.getByRole('button', { name: 'Create webhook' }).click();
    await page.getByRole('dialog', { name: 'Webhook created' }).waitFor();
    const hooks = (await server.api('GET', '/v1/webhooks')).body as { events: string[] }[];
    expect(hooks[0]?.events).toEqual(['link_request.created', 'link_request.approved', 'link_request.rejected']);
  });

  it('fits a 375 px wide phone, the redeem box first', async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    await openPage('?channel=whatsapp');
    await findCode(bucky.code);
    await redeemBox().locator('dl').getByText('Bucky').waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    const redeem = await redeemBox().getByRole('button', { name: 'Link and verify' }).boundingBox();
    expect(redeem && redeem.x >= 0 && redeem.x + redeem.width <= 375).toBe(true);
    const history = await page.getByRole('heading', { name: 'History' }).boundingBox();
    const box = await redeemBox().boundingBox();
    expect(box && history && box.y < history.y).toBe(true);
    const reject = await page.getByRole('button', { name: 'Reject whatsapp +16505550199' }).boundingBox();
    expect(reject && reject.x >= 0 && reject.x + reject.width <= 375).toBe(true);
    await screenshot(page, 'dashboard-link-requests-mobile', shots, false);
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(browser.problems).toEqual([]);
  });
});
