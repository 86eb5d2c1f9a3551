import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/dialects.js';
import { type Browser, launchBrowser, screenshot } from './helpers/browser.js';
import { E2E_ADMIN_KEY, type RunningServer, startServer } from './helpers/server.js';

interface Created {
  id: string;
}

/** Forgetting a person in the browser: export, erase with suppression, lift, and the redacted trail. */
describe.each(DIALECTS)('export, erase and suppressions in the dashboard on $name', (dialect) => {
  const shots = dialect === DIALECTS[0];
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let peggy: Created;
  let agent13: Created;
  /** Every URL the page asked for: the API key must be in none of them. */
  const requested: string[] = [];

  const nav = () => page.getByRole('navigation', { name: 'Main' });
  const suppressionRows = () => page.locator('tbody tr[data-suppression-id]');
  const auditRows = () => page.locator('tbody tr[data-action]');

  beforeAll(async () => {
    server = await startServer(dialect);
    const customer = async (email: string, name: string) => {
      const created = await server.api('POST', '/v1/customers', { email, name, metadata: { plan: 'pro' } });
      expect(created.status).toBe(201);
      return created.body as Created;
    };
    peggy = await customer('peggy@ssr.example', 'Peggy Carter');
    agent13 = await customer('agent13@shield.example', 'Sharon Carter');
    await customer('natasha@shield.example', 'Natasha Romanoff');
    const linked = await server.api('POST', `/v1/customers/${peggy.id}/identities`, {
      channel: 'telegram',
      external_id: '4242',
    });
    expect(linked.status).toBe(201);
    // The same person under another email, merged into Peggy: erased with her, the merge for good.
    const merged = await server.api('POST', `/v1/customers/${peggy.id}/merge`, {
      source_customer_id: agent13.id,
      dry_run: false,
    });
    expect(merged.status).toBe(200);

    browser = await launchBrowser();
    page = browser.page;
    page.on('request', (request) => requested.push(request.url()));
    await page.goto(server.baseUrl);
    await page.getByLabel('API key').fill(E2E_ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Customers', level: 1 }).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('downloads the customer’s data as a JSON file, the key in a header and never in a URL', async () => {
    await page.goto(`${server.baseUrl}/customers/${peggy.id}`);
    await page.getByRole('heading', { name: 'Peggy Carter', level: 1 }).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export data' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`customer-${peggy.id}.json`);
    const document = JSON.parse(await readFile(await download.path(), 'utf8')) as {
      customer: { email: string };
      identities: { external_id: string }[];
      merges: { source_customer: { email: string } }[];
    };
    expect(document.customer.email).toBe('peggy@ssr.example');
    expect(document.identities.map((identity) => identity.external_id)).toEqual(['4242']);
    expect(document.merges.map((merge) => merge.source_customer.email)).toEqual(['agent13@shield.example']);
    expect(requested.some((url) => url.includes(E2E_ADMIN_KEY))).toBe(false);
    expect(requested).toContain(`${server.baseUrl}/v1/customers/${peggy.id}/export`);
  });

  it('keeps Erase disabled until the customer’s email is typed, in any case', async () => {
    await page.getByRole('button', { name: 'Erase…' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Erase this customer?' });
    const erase = dialog.getByRole('button', { name: 'Erase for good' });
    const text = (await dialog.textContent()) ?? '';
    // What cannot be undone, in plain words.
    expect(text).toContain('The 1 customer merged into this one is the same person and is erased too');
    expect(text).toContain('Merges into this customer can no longer be undone');
    expect(text).toContain('Receivers that already got events keep them');
    expect(text).toContain('Backups taken before now still hold the person');
    expect(text).toContain('This cannot be undone.');

    const confirm = dialog.getByLabel("Type the customer's email to confirm");
    expect(await erase.isDisabled()).toBe(true);
    await confirm.fill('peggy@ssr.exampl');
    expect(await erase.isDisabled()).toBe(true);
    await confirm.fill('agent13@shield.example');
    expect(await erase.isDisabled()).toBe(true);
    await confirm.fill('  Peggy@SSR.example ');
    expect(await erase.isDisabled()).toBe(false);
    // Pressing Enter in a field that does not match does nothing either.
    await confirm.fill('peggy@');
    await confirm.press('Enter');
    expect(await dialog.isVisible()).toBe(true);
    expect((await server.api('GET', `/v1/customers/${peggy.id}`)).status).toBe(200);

    await confirm.fill('peggy@ssr.example');
    const suppress = dialog.getByLabel('Keep them from being added again (suppress)');
    expect(await suppress.isChecked()).toBe(false);
    await suppress.check();
    await dialog.getByLabel('Reason').fill('ticket 1234');
    // Tall enough for the whole dialog, its buttons included.
    await page.setViewportSize({ width: 1280, height: 1180 });
    await screenshot(page, 'dashboard-erase', shots, false);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('erases with suppression, then the customer is gone from the list, the search and its address', async () => {
    const dialog = page.getByRole('alertdialog', { name: 'Erase this customer?' });
    await dialog.getByRole('button', { name: 'Erase for good' }).click();
    await page.getByRole('heading', { name: 'Customers', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
    await page
      .getByRole('status')
      .filter({ hasText: `Customer ${peggy.id} was erased, with 1 identity. 3 values are suppressed.` })
      .waitFor();
    await page.getByRole('link', { name: 'Natasha Romanoff' }).waitFor();
    const list = (await page.locator('tbody').textContent()) ?? '';
    expect(list).not.toContain('peggy@ssr.example');
    expect(list).not.toContain('agent13@shield.example');

    await page.getByLabel('Search customers by email or name').fill('carter');
    await page.getByText('No customer matches “carter”.').waitFor();

    await page.goto(`${server.baseUrl}/customers/${peggy.id}`);
    await page.getByRole('heading', { name: 'Customer not found', level: 1 }).waitFor();
    // The merged-away id no longer leads anywhere either.
    await page.goto(`${server.baseUrl}/customers/${agent13.id}`);
    await page.getByRole('heading', { name: 'Customer not found', level: 1 }).waitFor();
    // The message was for once: it is not in the address, and a new visit does not show it.
    await nav().getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('link', { name: 'Natasha Romanoff' }).waitFor();
    expect(await page.getByText('was erased').count()).toBe(0);
  });

  it('lists the suppressions by kind, channel and time, never the value', async () => {
    await nav().getByRole('link', { name: 'Suppressions' }).click();
    await page.getByRole('heading', { name: 'Suppressions', level: 1 }).waitFor();
    expect(await nav().getByRole('link', { name: 'Suppressions' }).getAttribute('aria-current')).toBe('page');
    await expect.poll(() => suppressionRows().count()).toBe(3);
    const kinds = await suppressionRows().locator('td[data-label="Kind"]').allTextContents();
    expect(kinds.sort()).toEqual(['Chat account', 'Email', 'Email']);
    const channels = await suppressionRows().locator('td[data-label="Channel"]').allTextContents();
    expect(channels.sort()).toEqual(['telegram', '—', '—']);
    expect(await suppressionRows().locator('td[data-label="Suppressed"] time').count()).toBe(3);
    const table = (await page.locator('table').textContent()) ?? '';
    expect(table).not.toContain('peggy');
    expect(table).not.toContain('4242');
    await screenshot(page, 'dashboard-suppressions', shots);
  });

  it('refuses to create the customer again, saying the email is suppressed and where to lift it', async () => {
    await nav().getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('button', { name: 'New customer' }).click();
    const dialog = page.getByRole('dialog', { name: 'New customer' });
    await dialog.getByLabel('Email').fill('Peggy@SSR.example');
    await dialog.getByRole('button', { name: 'Create customer' }).click();
    await dialog.getByText('This email was erased and is suppressed').waitFor();
    expect(await dialog.getByLabel('Email').getAttribute('aria-invalid')).toBe('true');
    await dialog.getByRole('link', { name: 'Suppressions' }).click();
    await page.getByRole('heading', { name: 'Suppressions', level: 1 }).waitFor();
    await expect.poll(() => suppressionRows().count()).toBe(3);
  });

  it('lifts a suppression with the value typed, saying so when nothing matches', async () => {
    const emailRow = suppressionRows().filter({ has: page.locator('td[data-label="Kind"]', { hasText: 'Email' }) });
    await emailRow
      .first()
      .getByRole('button', { name: /^Lift: an email/ })
      .click();
    const dialog = page.getByRole('dialog', { name: 'Lift a suppression' });
    // Opened from an email row: it asks for an email, nothing else.
    expect(await dialog.getByLabel('External id').count()).toBe(0);
    await dialog.getByLabel('Email').fill('nobody@ssr.example');
    await dialog.getByRole('button', { name: 'Lift' }).click();
    await dialog.getByText('Nothing suppressed matches this email').waitFor();
    await dialog.getByLabel('Email').fill('not an email');
    await dialog.getByRole('button', { name: 'Lift' }).click();
    await expect.poll(() => dialog.getByLabel('Email').getAttribute('aria-invalid')).toBe('true');
    expect(await suppressionRows().count()).toBe(3);

    await dialog.getByLabel('Email').fill(' PEGGY@ssr.example');
    await dialog.getByRole('button', { name: 'Lift' }).click();
    await page.getByRole('status').filter({ hasText: 'Lifted: this email can be added again.' }).waitFor();
    await expect.poll(() => suppressionRows().count()).toBe(2);

    // From the page's own button: any kind, the channel typed.
    await page.getByRole('button', { name: 'Lift a value…' }).click();
    const any = page.getByRole('dialog', { name: 'Lift a suppression' });
    await any.getByLabel('A chat account').check();
    await any.getByLabel('Channel').fill('telegram');
    await any.getByLabel('External id').fill('4242');
    await any.getByRole('button', { name: 'Lift' }).click();
    await page.getByRole('status').filter({ hasText: 'Lifted: this telegram account can be added again.' }).waitFor();
    await expect.poll(() => suppressionRows().count()).toBe(1);
  });

  it('creates the customer once the email is lifted', async () => {
    await nav().getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('button', { name: 'New customer' }).click();
    const dialog = page.getByRole('dialog', { name: 'New customer' });
    await dialog.getByLabel('Email').fill('peggy@ssr.example');
    await dialog.getByLabel('Name').fill('Peggy Carter');
    await dialog.getByRole('button', { name: 'Create customer' }).click();
    await page.getByRole('heading', { name: 'Peggy Carter', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).not.toBe(`/customers/${peggy.id}`);
  });

  it('shows erased values in the audit trail as such, and the erasure with its counts and reason', async () => {
    await page.goto(`${server.baseUrl}/audit?customer_id=${peggy.id}`);
    await page.getByRole('status').filter({ hasText: 'Loading the audit trail' }).waitFor({ state: 'detached' });
    await expect.poll(() => auditRows().count()).toBeGreaterThanOrEqual(4);
    const erasure = page.locator('tbody tr[data-action="customer.erased"]');
    const erasureText = (await erasure.textContent()) ?? '';
    expect(erasureText).toContain('Customer erased');
    expect(erasureText).toContain('Erased with 1 identity, 1 merged customer');
    expect(erasureText).toContain('3 values suppressed');
    expect(erasureText).toContain('Reason: ticket 1234');

    // Every entry about her shows "erased" marks, never the quoted placeholder or her values.
    for (const details of await page.locator('tbody details').all()) await details.locator('summary').click();
    const table = (await page.locator('table').textContent()) ?? '';
    expect(table).not.toContain('[erased]');
    expect(table).not.toContain('peggy@ssr.example');
    expect(table).not.toContain('4242');
    const created = page.locator('tbody tr[data-action="customer.created"]');
    expect(await created.locator('td[data-label="What changed"] .timeline__change .badge--erased').count()).toBe(1);
    expect(await created.locator('td[data-label="Customer"] .badge--erased').count()).toBe(1);
    expect(await created.locator('td[data-label="Customer"]').textContent()).toContain(
      `Customer ${peggy.id.slice(0, 8)}`,
    );
    // The erasure's own entry holds no erased value, and still does not link to a page that is gone.
    expect(await erasure.locator('td[data-label="Customer"] a').count()).toBe(0);
    expect(await erasure.locator('td[data-label="Customer"] .badge--erased').count()).toBe(1);
    const linked = page.locator(
      'tbody tr[data-action="identity.created"] td[data-label="What changed"] .timeline__change',
    );
    expect(await linked.textContent()).toBe('account erased');
    expect(await page.locator('tbody pre .badge--erased').count()).toBeGreaterThan(3);
    await screenshot(page, 'dashboard-audit-erased', shots);
  });

  it('offers customer.erased in the webhook form’s events', async () => {
    await nav().getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('button', { name: 'New webhook' }).click();
    const dialog = page.getByRole('dialog', { name: 'New webhook' });
    await dialog.getByLabel('Every event, including types added later').uncheck();
    await dialog.getByLabel('customer.erased').check();
    expect(await dialog.getByLabel('customer.erased').isChecked()).toBe(true);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
  });

  it('fits a 375 px wide phone', async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    await page.goto(`${server.baseUrl}/suppressions`);
    await expect.poll(() => suppressionRows().count()).toBe(1);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    const lift = await suppressionRows().first().getByRole('button', { name: /^Lift/ }).boundingBox();
    expect(lift && lift.x >= 0 && lift.x + lift.width <= 375).toBe(true);

    const natasha = (await server.api('GET', '/v1/customers?q=natasha')).body as { items: Created[] };
    await page.goto(`${server.baseUrl}/customers/${natasha.items[0]?.id}`);
    await page.getByRole('heading', { name: 'Natasha Romanoff', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Erase…' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Erase this customer?' });
    await dialog.getByRole('button', { name: 'Erase for good' }).waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(browser.problems).toEqual([]);
  });
});
