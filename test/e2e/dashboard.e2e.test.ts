import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/dialects.js';
import { type Browser, launchBrowser, screenshot } from './helpers/browser.js';
import { E2E_ADMIN_KEY, E2E_BOT_USERNAME, type RunningServer, startServer } from './helpers/server.js';

/** The seed's story in the browser: Matt signs in, links Steve's Telegram, reads him a code, Steve claims. */
describe.each(DIALECTS)('the dashboard on $name', (dialect) => {
  // Screenshots once, from the first database: they look the same on both.
  const shots = dialect === DIALECTS[0];
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let customerId = '';
  let code = '';

  const linkForm = () => page.getByRole('form', { name: 'Link an identity' });
  /** Waits until the customers table shows exactly n rows (the list loads after each search or page). */
  const rows = (n: number) => expect.poll(() => page.locator('tbody tr').count()).toBe(n);
  const row = (label: string) => page.locator('tr', { has: page.getByRole('button', { name: `Unlink ${label}` }) });

  beforeAll(async () => {
    server = await startServer(dialect);
    // A few customers so the list looks like a real one.
    for (const [name, email] of [
      ['Natasha Romanoff', 'natasha@shield.example'],
      ['Bruce Banner', 'bruce@culver.example'],
      ['Peggy Carter', 'peggy@ssr.example'],
    ]) {
      const created = await server.api('POST', '/v1/customers', { email, name, metadata: { plan: 'pro' } });
      expect(created.status).toBe(201);
    }
    browser = await launchBrowser();
    page = browser.page;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('refuses a wrong key, then signs in with the admin key kept in sessionStorage only', async () => {
    await page.goto(server.baseUrl);
    await page.getByRole('heading', { name: 'Sign in to the dashboard' }).waitFor();
    await screenshot(page, 'dashboard-sign-in', shots);

    await page.getByLabel('API key').fill('idsk_this-is-not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That API key was not accepted').waitFor();
    expect(await page.getByLabel('API key').getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate('Object.keys(sessionStorage).length')).toBe(0);

    const runtime = await server.api('POST', '/v1/api-keys', { name: 'agent-runtime', scope: 'runtime' });
    await page.getByLabel('API key').fill((runtime.body as { key: string }).key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The dashboard needs a key with the admin scope').waitFor();
    expect(await page.evaluate('Object.keys(sessionStorage).length')).toBe(0);

    // Keyboard only: type the key and press Enter.
    await page.getByLabel('API key').fill(E2E_ADMIN_KEY);
    await page.getByLabel('API key').press('Enter');
    await page.getByRole('heading', { name: 'Customers', level: 1 }).waitFor();
    expect(await page.evaluate('Object.values(sessionStorage)')).toEqual([E2E_ADMIN_KEY]);
    expect(page.url()).not.toContain(E2E_ADMIN_KEY);
    await page.getByRole('link', { name: 'Peggy Carter' }).waitFor();
    expect(await page.locator('tbody tr').count()).toBe(3);
  });

  it('searches customers by part of the email or name', async () => {
    await page.getByLabel('Search customers by email or name').fill('culver');
    await page.waitForURL(/\?q=culver$/);
    await rows(1);
    expect(await page.locator('tbody tr').allInnerTexts()).toEqual([expect.stringContaining('bruce@culver.example')]);

    await page.getByLabel('Search customers by email or name').fill('nobody-like-this');
    await page.getByText('No customer matches “nobody-like-this”.').waitFor();

    await page.getByLabel('Search customers by email or name').fill('');
    await page.getByRole('link', { name: 'Natasha Romanoff' }).waitFor();
    await screenshot(page, 'dashboard-customers', shots);
  });

  it('creates a customer, refusing metadata that is not a JSON object before sending it', async () => {
    await page.getByRole('button', { name: 'New customer' }).click();
    const dialog = page.getByRole('dialog', { name: 'New customer' });
    await dialog.getByLabel('Email').fill('Steve@Acme.com');
    await dialog.getByLabel('Name').fill('Steve Rogers');
    await dialog.getByLabel('Metadata').fill('{"plan": "pro",');
    await dialog.getByText('Not valid JSON').waitFor();
    expect(await dialog.getByRole('button', { name: 'Create customer' }).isDisabled()).toBe(true);
    await dialog.getByLabel('Metadata').fill('["not", "an", "object"]');
    await dialog.getByText('Metadata must be a JSON object').waitFor();
    await dialog.getByLabel('Metadata').fill('{"plan": "pro"}');
    await dialog.getByRole('button', { name: 'Create customer' }).click();

    await page.getByRole('heading', { name: 'Steve Rogers', level: 1 }).waitFor();
    customerId = /\/customers\/([0-9a-f-]{36})$/.exec(page.url())?.[1] ?? '';
    const stored = await server.api('GET', `/v1/customers/${customerId}`);
    expect(stored).toMatchObject({ status: 200, body: { email: 'steve@acme.com', metadata: { plan: 'pro' } } });
    await page.getByText('No linked identities yet.').waitFor();
  });

  it("shows the API's 422 at the field it names", async () => {
    await linkForm().getByLabel('Channel').fill('telegram');
    await linkForm().getByLabel('External id').fill('abc');
    await linkForm().getByRole('button', { name: 'Link identity' }).click();
    const field = linkForm().getByLabel('External id');
    await linkForm().getByText('must be an integer chat id').waitFor();
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await field.getAttribute('aria-describedby')) ?? '';
    const errorId = describedBy.split(' ').find((id) => id.endsWith('-error')) ?? 'none';
    expect(await page.locator(`[id="${errorId}"]`).textContent()).toContain('must be an integer chat id');
    expect(await linkForm().getByLabel('Channel').getAttribute('aria-invalid')).toBeNull();
    const identities = await server.api('GET', `/v1/customers/${customerId}/identities`);
    expect(identities.body).toEqual([]);
  });

  it('offers Discord, says where its user id is found, and shows its 422 at the field', async () => {
    expect(await page.locator('datalist option[value="discord"]').count()).toBeGreaterThan(0);
    await linkForm().getByLabel('Channel').fill('discord');
    const field = linkForm().getByLabel('External id');
    const hintOf = async () => {
      const hintId = ((await field.getAttribute('aria-describedby')) ?? '')
        .split(' ')
        .find((id) => id.endsWith('-hint'));
      return page.locator(`[id="${hintId ?? 'none'}"]`).textContent();
    };
    await linkForm().getByText('The Discord user id, from Developer Mode → Copy User ID').waitFor();
    expect(await hintOf()).toContain('from Developer Mode → Copy User ID');
    // A username is not a user id: the API says so, at the field.
    await field.fill('steve#1234');
    await linkForm().getByRole('button', { name: 'Link identity' }).click();
    await linkForm().getByText('must be a Discord user id').waitFor();
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect((await server.api('GET', `/v1/customers/${customerId}/identities`)).body).toEqual([]);
    // Back to Telegram for the next steps: its own hint again.
    await linkForm().getByLabel('Channel').fill('telegram');
    await linkForm().getByText('The numeric Telegram user id').waitFor();
  });

  it('links a Telegram identity', async () => {
    await linkForm().getByLabel('External id').fill(' 12345 ');
    await linkForm().getByLabel('Display name').fill('Steve on Telegram');
    await linkForm().getByRole('button', { name: 'Link identity' }).click();
    await row('telegram 12345').waitFor();
    const cells = (await row('telegram 12345').textContent()) ?? '';
    expect(cells).toContain('Steve on Telegram');
    expect(cells).toContain('All instances');
    expect(cells).toContain('Unverified');
    expect(await linkForm().getByLabel('External id').getAttribute('aria-invalid')).toBeNull();
  });

  it('edits display name, role and metadata, refusing invalid JSON; verifies and unverifies', async () => {
    await page.getByRole('button', { name: 'Edit telegram 12345' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit telegram 12345' });
    await dialog.getByLabel('Display name').fill('Steve R.');
    await dialog.getByLabel('Role override').fill('member');
    await dialog.getByLabel('Metadata').fill('{"lang": en}');
    await dialog.getByText('Not valid JSON').waitFor();
    expect(await dialog.getByRole('button', { name: 'Save changes' }).isDisabled()).toBe(true);
    await dialog.getByLabel('Metadata').fill('{"lang": "en"}');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await row('telegram 12345').textContent()) ?? '').toContain('Steve R.');
    const [stored] = (await server.api('GET', `/v1/customers/${customerId}/identities`)).body as Record<
      string,
      unknown
    >[];
    expect(stored).toMatchObject({ display_name: 'Steve R.', role_override: 'member', metadata: { lang: 'en' } });

    await page.getByRole('button', { name: 'Verify telegram 12345', exact: true }).click();
    await page.getByRole('button', { name: 'Unverify telegram 12345', exact: true }).waitFor();
    expect(await row('telegram 12345').locator('.badge--success').textContent()).toMatch(/^✓ Verified \d/);
    await page.getByRole('button', { name: 'Unverify telegram 12345', exact: true }).click();
    await page.getByRole('button', { name: 'Verify telegram 12345', exact: true }).waitFor();
    expect(await row('telegram 12345').locator('.badge--success').count()).toBe(0);
    const [after] = (await server.api('GET', `/v1/customers/${customerId}/identities`)).body as Record<
      string,
      unknown
    >[];
    expect(after).toMatchObject({ verified: false, verified_at: null });
    await page.getByRole('region', { name: 'History' }).getByText('Identity unverified').waitFor();
  });

  it('generates a code with countdown, instructions, deep link and QR code', async () => {
    await page.getByRole('button', { name: 'Generate code for telegram 12345' }).click();
    await page.getByRole('heading', { name: 'Claim code for telegram 12345' }).waitFor();
    code = (await page.locator('[data-code]').getAttribute('data-code')) ?? '';
    expect(code).toMatch(/^[A-HJKMNP-Z2-9]{6}$/);
    // Two groups of three, to read aloud.
    expect(await page.locator('.claim__code [aria-hidden="true"]').textContent()).toBe(
      `${code.slice(0, 3)} ${code.slice(3)}`,
    );
    const timer = page.getByRole('timer');
    const first = (await timer.textContent()) ?? '';
    expect(first).toMatch(/^Expires in 1[45]:\d\d$/);
    // It counts down by itself.
    await expect.poll(() => timer.textContent(), { timeout: 5_000 }).not.toBe(first);
    await page.getByText(`Send /claim ${code} to the bot on telegram`).waitFor();

    const deepLink = `https://t.me/${E2E_BOT_USERNAME}?start=claim_${code}`;
    expect(await page.locator(`a[href="${deepLink}"]`).count()).toBe(1);
    const qr = page.getByRole('img', { name: `QR code for ${deepLink}` });
    await qr.waitFor();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml/);
    // Drawn in the page (img-src allows data: URLs), not fetched from a QR service.
    await expect
      .poll(() => qr.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth))
      .toBeGreaterThan(0);
    await screenshot(page, 'dashboard-customer-code', shots);
  });

  it('fits a 375 px wide phone, code panel included', async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    const unlink = page.getByRole('button', { name: 'Unlink telegram 12345' });
    const box = await unlink.boundingBox();
    expect(box && box.x >= 0 && box.x + box.width <= 375).toBe(true);
    const codeBox = await page.locator('.claim__code').boundingBox();
    expect(codeBox && codeBox.x + codeBox.width <= 375).toBe(true);
    await page.evaluate("document.querySelector('.claim').scrollIntoView({ block: 'start' })");
    await screenshot(page, 'dashboard-mobile', shots, false);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('turns verified without a reload when the runtime redeems the code', async () => {
    await page.evaluate('window.e2eSamePage = true');
    const runtimeKey = await server.api('POST', '/v1/api-keys', { name: 'telegram-bot', scope: 'runtime' });
    expect(runtimeKey.status).toBe(201);
    const key = (runtimeKey.body as { key: string }).key;

    // Steve types the code as Matt read it, with the space: the runtime forwards it as is.
    const claim = await server.api(
      'POST',
      '/v1/customers/identities/claim',
      { channel: 'telegram', external_id: '12345', code: `${code.slice(0, 3)} ${code.slice(3)}` },
      key,
    );
    expect(claim).toMatchObject({ status: 200, body: { verified: true, role_override: 'owner' } });

    await page.getByRole('heading', { name: 'Claimed' }).waitFor({ timeout: 15_000 });
    expect(await page.evaluate('window.e2eSamePage')).toBe(true);
    const cells = (await row('telegram 12345').textContent()) ?? '';
    expect(cells).toContain('Verified');
    expect(cells).not.toContain('Unverified');
    expect(cells).toContain('owner');
    expect(await page.getByRole('button', { name: 'Generate code for telegram 12345' }).count()).toBe(0);
    await page.getByRole('region', { name: 'History' }).getByText('Code redeemed').waitFor();
  });

  it('shows what the runtime gets from the reverse lookup', async () => {
    await page.getByRole('button', { name: 'Look up telegram 12345' }).click();
    const result = page.locator('#lookup pre');
    await result.waitFor();
    const body = JSON.parse((await result.textContent()) ?? '') as Record<string, unknown>;
    expect(body).toMatchObject({
      channel: 'telegram',
      external_id: '12345',
      customer_email: 'steve@acme.com',
      customer_id: customerId,
      role_override: 'owner',
      verified: true,
    });
  });

  it('unlinks the identity after a confirmation', async () => {
    await page.getByRole('button', { name: 'Unlink telegram 12345' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Unlink this identity?' });
    await dialog.getByText('will no longer be linked to Steve Rogers').waitFor();
    // Escape cancels, and focus goes back to the button that opened the dialog.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await row('telegram 12345').count()).toBe(1);
    expect(await page.evaluate("document.activeElement.getAttribute('aria-label')")).toBe('Unlink telegram 12345');

    await page.getByRole('button', { name: 'Unlink telegram 12345' }).click();
    await dialog.getByRole('button', { name: 'Unlink', exact: true }).click();
    await page.getByText('No linked identities yet.').waitFor();
    const lookup = await server.api('GET', '/v1/customers/lookup/identity?channel=telegram&external_id=12345');
    expect(lookup.status).toBe(404);

    // The runtime now gets a 404 for him, and the lookup box says so.
    const box = page.locator('#lookup');
    await box.getByRole('button', { name: 'Look up' }).click();
    await box.getByText('Nobody owns telegram 12345').waitFor();
    expect(JSON.parse((await box.locator('pre').textContent()) ?? '')).toEqual(lookup.body);
  });

  it('deletes the customer after a confirmation that says what goes with it', async () => {
    await server.api('POST', `/v1/customers/${customerId}/identities`, { channel: 'slack', external_id: 'u024be7lh' });
    await page.reload();
    await page.getByRole('button', { name: 'Delete customer' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Delete this customer?' });
    await dialog.getByText('its linked identity and their claim codes').waitFor();
    await dialog.getByRole('button', { name: 'Delete customer' }).click();
    await page.getByRole('heading', { name: 'Customers', level: 1 }).waitFor();
    expect((await server.api('GET', `/v1/customers/${customerId}`)).status).toBe(404);
    expect((await server.api('GET', '/v1/customers/lookup/identity?channel=slack&external_id=U024BE7LH')).status).toBe(
      404,
    );
  });

  it('pages through the customers', async () => {
    for (let n = 1; n <= 21; n += 1) {
      const created = await server.api('POST', '/v1/customers', { email: `customer-${n}@example.com`, name: `C ${n}` });
      expect(created.status).toBe(201);
    }
    await page.reload();
    await page.getByText('Page 1').waitFor();
    expect(await page.locator('tbody tr').count()).toBe(20);
    expect(await page.locator('tbody tr').first().textContent()).toContain('customer-21@example.com');
    await page.getByRole('button', { name: 'Next →' }).click();
    await page.getByText('Page 2').waitFor();
    // 3 + 21 customers in all (Steve is gone): the last 4, oldest last.
    expect(await page.locator('tbody tr').count()).toBe(4);
    expect(await page.locator('tbody tr').last().textContent()).toContain('natasha@shield.example');
    expect(await page.getByRole('button', { name: 'Next →' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: '← Previous' }).click();
    await page.getByText('Page 1').waitFor();
    expect(await page.locator('tbody tr').count()).toBe(20);
  });

  it('signs out, forgetting the key', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to the dashboard' }).waitFor();
    expect(await page.evaluate('Object.keys(sessionStorage).length')).toBe(0);
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to the dashboard' }).waitFor();
  });

  it('asks for a new key when the one in use is revoked', async () => {
    const created = await server.api('POST', '/v1/api-keys', { name: 'dashboard', scope: 'admin' });
    const { id, key } = created.body as { id: string; key: string };
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The list has loaded with this key (the newest customer is on the first page).
    await page.getByRole('link', { name: 'C 21', exact: true }).waitFor();

    expect((await server.api('DELETE', `/v1/api-keys/${id}`)).status).toBe(204);
    await page.getByLabel('Search customers by email or name').fill('peggy');
    await page.getByText('Your API key stopped working').waitFor();
    expect(await page.evaluate('Object.keys(sessionStorage).length')).toBe(0);
    expect(browser.problems).toEqual([]);
  });
});
