import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/dialects.js';
import { type Browser, launchBrowser, screenshot } from './helpers/browser.js';
import { E2E_ADMIN_KEY, type RunningServer, startServer } from './helpers/server.js';

interface Created {
  id: string;
}

/** The operator's console beyond customers: navigation, API keys and the whole audit trail. */
describe.each(DIALECTS)('the console on $name', (dialect) => {
  const shots = dialect === DIALECTS[0];
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let newKey = '';
  let peggy: Created;
  let natasha: Created;

  const keyRow = (name: string) =>
    page.locator('tr', { has: page.getByRole('button', { name: `Revoke key ${name}` }) });
  const auditRows = () => page.locator('tbody tr[data-action]');
  /** Waits until the audit table shows rows for these filters (it reloads after each change). */
  const settled = async (url: RegExp) => {
    await page.waitForURL(url);
    await page.getByRole('status').filter({ hasText: 'Loading the audit trail' }).waitFor({ state: 'detached' });
  };

  beforeAll(async () => {
    server = await startServer(dialect);
    browser = await launchBrowser();
    page = browser.page;
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.baseUrl });

    // A second admin key of a tool, acting on Peggy: a second actor in the trail.
    const tool = await server.api('POST', '/v1/api-keys', { name: 'crm-sync', scope: 'admin' });
    const toolKey = (tool.body as { key: string }).key;
    peggy = (await server.api('POST', '/v1/customers', { email: 'peggy@ssr.example', name: 'Peggy Carter' }, toolKey))
      .body as Created;
    natasha = (await server.api('POST', '/v1/customers', { email: 'natasha@shield.example', name: 'Natasha Romanoff' }))
      .body as Created;
    for (let n = 1; n <= 14; n += 1) {
      const linked = await server.api(
        'POST',
        `/v1/customers/${peggy.id}/identities`,
        { channel: 'telegram', external_id: String(1000 + n) },
        toolKey,
      );
      expect(linked.status).toBe(201);
    }
    const identity = await server.api('POST', `/v1/customers/${natasha.id}/identities`, {
      channel: 'slack',
      external_id: 'u0natasha',
    });
    const identityId = (identity.body as Created).id;
    await server.api('PATCH', `/v1/customers/${natasha.id}/identities/${identityId}`, { verified: true });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('signs in and moves between the sections, marking the current one', async () => {
    await page.goto(server.baseUrl);
    await page.getByLabel('API key').fill(E2E_ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const nav = page.getByRole('navigation', { name: 'Main' });
    await page.getByRole('heading', { name: 'Customers', level: 1 }).waitFor();
    expect(await nav.getByRole('link', { name: 'Customers' }).getAttribute('aria-current')).toBe('page');

    await nav.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
    expect(page.url()).toBe(`${server.baseUrl}/api-keys`);
    expect(await nav.getByRole('link', { name: 'API keys' }).getAttribute('aria-current')).toBe('page');
    expect(await nav.getByRole('link', { name: 'Customers' }).getAttribute('aria-current')).toBeNull();

    await nav.getByRole('link', { name: 'Audit trail' }).click();
    await page.getByRole('heading', { name: 'Audit trail', level: 1 }).waitFor();
    // The address is the page: a reload stays there, and Back goes to the keys.
    await page.reload();
    await page.getByRole('heading', { name: 'Audit trail', level: 1 }).waitFor();
    await page.goBack();
    await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
  });

  it('lists the keys with name, scope, prefix, created and last used, marking the one in use', async () => {
    await keyRow('crm-sync').waitFor();
    const listed = (await server.api('GET', '/v1/api-keys')).body as {
      name: string;
      prefix: string;
      last_used_at: string | null;
    }[];
    const bootstrap = keyRow('bootstrap');
    const bootstrapText = (await bootstrap.textContent()) ?? '';
    expect(bootstrapText).toContain('admin');
    expect(bootstrapText).toContain('this dashboard');
    expect(bootstrapText).toContain(`${listed.find((k) => k.name === 'bootstrap')?.prefix}…`);
    const crm = (await keyRow('crm-sync').textContent()) ?? '';
    expect(crm).toContain(`${listed.find((k) => k.name === 'crm-sync')?.prefix}…`);
    expect(crm).not.toContain('this dashboard');
    // Used a moment ago by the setup: a time, not "Never".
    expect(await keyRow('crm-sync').locator('td[data-label="Last used"] time').count()).toBe(1);
    expect(await keyRow('crm-sync').locator('td[data-label="Created"] time').count()).toBe(1);
  });

  it('creates a key, showing it once with a copy button', async () => {
    await page.getByRole('button', { name: 'New API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'New API key' });
    // The name field has the focus as the dialog opens.
    const nameId = await dialog.getByLabel('Name').getAttribute('id');
    await expect.poll(() => page.evaluate('document.activeElement.id')).toBe(nameId);
    await dialog.getByRole('button', { name: 'Create key' }).click();
    await dialog.getByText('String should have at least 1 character').waitFor();
    expect(await dialog.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');

    await dialog.getByLabel('Name').fill('telegram-bot');
    await dialog.getByLabel('Scope').selectOption('runtime');
    await dialog.getByRole('button', { name: 'Create key' }).click();

    const shown = page.getByRole('dialog', { name: 'API key telegram-bot' });
    const field = shown.getByLabel('API key');
    await field.waitFor();
    newKey = await field.inputValue();
    expect(newKey).toMatch(/^idsk_[A-Za-z0-9_-]{40,}$/);
    await shown.getByText('it is not shown again').waitFor();
    await shown.getByRole('button', { name: 'Copy' }).click();
    await shown.getByRole('button', { name: 'Copied ✓' }).waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(newKey);
    await screenshot(page, 'dashboard-api-key-created', shots, false);

    // It is a working runtime key: a lookup answers (404: nobody), not 401 or 403.
    const lookup = await server.api(
      'GET',
      '/v1/customers/lookup/identity?channel=telegram&external_id=1',
      undefined,
      newKey,
    );
    expect(lookup.status).toBe(404);

    await shown.getByRole('button', { name: 'Done' }).click();
    await shown.waitFor({ state: 'hidden' });
    const row = (await keyRow('telegram-bot').textContent()) ?? '';
    expect(row).toContain('runtime');
    expect(row).toContain(`${newKey.slice(0, 13)}…`);
    expect(row).toContain('Never');
    // Shown once: nowhere on the page any more, nor after a reload.
    expect(await page.content()).not.toContain(newKey);
    await page.reload();
    await keyRow('telegram-bot').waitFor();
    expect(await page.content()).not.toContain(newKey);
    await screenshot(page, 'dashboard-api-keys', shots);
  });

  it('revokes a key after a confirmation, and it stops working at once', async () => {
    await page.getByRole('button', { name: 'Revoke key telegram-bot' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Revoke this API key?' });
    await dialog.getByText('stops working at once').waitFor();
    expect(await dialog.getByText('This dashboard is signed in with this key').count()).toBe(0);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await expect
      .poll(() => page.evaluate("document.activeElement.getAttribute('aria-label')"))
      .toBe('Revoke key telegram-bot');
    expect(
      (await server.api('GET', '/v1/customers/lookup/identity?channel=telegram&external_id=1', undefined, newKey))
        .status,
    ).toBe(404);

    await page.getByRole('button', { name: 'Revoke key telegram-bot' }).click();
    await dialog.getByRole('button', { name: 'Revoke key' }).click();
    await page.getByRole('status').filter({ hasText: 'Revoked telegram-bot.' }).waitFor();
    expect(await keyRow('telegram-bot').count()).toBe(0);
    const after = await server.api(
      'GET',
      '/v1/customers/lookup/identity?channel=telegram&external_id=1',
      undefined,
      newKey,
    );
    expect(after.status).toBe(401);
    const names = ((await server.api('GET', '/v1/api-keys')).body as { name: string }[]).map((k) => k.name);
    expect(names).not.toContain('telegram-bot');
  });

  it('warns before revoking the key the dashboard is signed in with', async () => {
    await page.getByRole('button', { name: 'Revoke key bootstrap' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Revoke this API key?' });
    await dialog.getByText('This dashboard is signed in with this key').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await server.api('GET', '/v1/api-keys')).status).toBe(200);
  });

  it('shows the whole trail, newest first, a page at a time', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit trail' }).click();
    await settled(/\/audit$/);
    const all = (await server.api('GET', '/v1/audit?limit=200')).body as { items: { id: string; action: string }[] };
    // 2 keys made and 1 revoked, 2 customers, 15 identities, 1 verification: 21 events.
    expect(all.items.length).toBe(21);
    expect(await auditRows().count()).toBe(21);
    expect(await auditRows().evaluateAll((rows) => rows.map((row) => row.getAttribute('data-action')))).toEqual(
      all.items.map((event) => event.action),
    );
    expect(await auditRows().first().textContent()).toContain('API key revoked');

    // Five more events make two pages of 25.
    for (let n = 1; n <= 5; n += 1) {
      await server.api('PATCH', `/v1/customers/${natasha.id}`, { metadata: { n } });
    }
    await page.reload();
    await page.getByText('Page 1').waitFor();
    expect(await auditRows().count()).toBe(25);
    expect(await auditRows().first().textContent()).toContain('"n": 5');
    await page.getByRole('button', { name: 'Older →' }).click();
    await page.getByText('Page 2').waitFor();
    expect(await auditRows().count()).toBe(1);
    expect(await auditRows().first().getAttribute('data-action')).toBe('api_key.created');
    expect(await page.getByRole('button', { name: 'Older →' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: '← Newer' }).click();
    await page.getByText('Page 1').waitFor();
    expect(await auditRows().count()).toBe(25);
  });

  it('filters by action, or a family of actions', async () => {
    const filters = page.getByRole('form', { name: 'Filter the audit trail' });
    await filters.getByLabel('Action').selectOption('identity.verified');
    await settled(/\?action=identity\.verified$/);
    expect(await auditRows().count()).toBe(1);
    expect(await auditRows().first().textContent()).toContain('Identity verified');

    await filters.getByLabel('Action').selectOption('customer.*');
    await settled(/\?action=customer\.\*$/);
    const actions = await auditRows().evaluateAll((rows) => rows.map((row) => row.getAttribute('data-action')));
    expect(actions).toEqual([...Array(5).fill('customer.updated'), 'customer.created', 'customer.created']);
  });

  it('filters by actor, combined with the action', async () => {
    const filters = page.getByRole('form', { name: 'Filter the audit trail' });
    await filters.getByLabel('Actor').fill('crm-sync');
    await settled(/\?action=customer\.\*&actor=crm-sync$/);
    expect(await auditRows().count()).toBe(1);
    expect(await auditRows().first().textContent()).toContain('peggy@ssr.example');

    await filters.getByLabel('Action').selectOption('');
    await settled(/\?actor=crm-sync$/);
    // Peggy and her 14 identities.
    expect(await auditRows().count()).toBe(15);
    expect(new Set(await auditRows().locator('td[data-label="Actor"]').allTextContents())).toEqual(
      new Set(['crm-sync']),
    );

    await filters.getByLabel('Actor').fill('nobody-at-all');
    await settled(/\?actor=nobody-at-all$/);
    await page.getByText('Nothing matches these filters.').waitFor();
  });

  it('filters by a customer found by name, and each entry links to its customer', async () => {
    const filters = page.getByRole('form', { name: 'Filter the audit trail' });
    await filters.getByRole('button', { name: 'Clear filters' }).click();
    await settled(/\/audit$/);
    await filters.getByLabel('Customer').fill('natasha');
    await filters.getByRole('button', { name: /Natasha Romanoff/ }).click();
    await settled(new RegExp(`\\?customer_id=${natasha.id}$`));
    await filters.getByText('natasha@shield.example').waitFor();
    // Created, 5 updates, a linked identity, its verification.
    expect(await auditRows().count()).toBe(8);
    await screenshot(page, 'dashboard-audit', shots);

    // Entries name their customer, even those that do not carry it (an identity's).
    await auditRows().filter({ hasText: 'Identity verified' }).getByRole('link', { name: 'Natasha Romanoff' }).click();
    await page.getByRole('heading', { name: 'Natasha Romanoff', level: 1 }).waitFor();
    expect(page.url()).toBe(`${server.baseUrl}/customers/${natasha.id}`);
    // And back: the filters are in the address.
    await page.goBack();
    await settled(new RegExp(`\\?customer_id=${natasha.id}$`));
    expect(await auditRows().count()).toBe(8);
  });

  it('refuses a hand-written filter the API does not accept, saying why', async () => {
    await page.goto(`${server.baseUrl}/audit?action=identity`);
    await page.getByText('Could not load the audit trail').waitFor();
    await page.getByText('action: String should match pattern').waitFor();
  });

  it('fits a 375 px wide phone', async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    await page.goto(`${server.baseUrl}/audit?actor=crm-sync`);
    await settled(/\?actor=crm-sync$/);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await screenshot(page, 'dashboard-audit-mobile', shots, false);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click();
    await keyRow('crm-sync').waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    const revoke = await page.getByRole('button', { name: 'Revoke key crm-sync' }).boundingBox();
    expect(revoke && revoke.x >= 0 && revoke.x + revoke.width <= 375).toBe(true);
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(browser.problems).toEqual([]);
  });
});
