import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/dialects.js';
import { type Browser, launchBrowser } from './helpers/browser.js';
import { type RunningServer, startServer } from './helpers/server.js';

/**
 * The API reference at /docs (Swagger UI from our own origin) in Chromium: it loads under the
 * strict Content-Security-Policy with no console error and no policy violation, and shows no
 * section without routes.
 */
const TELEGRAM = {
  TELEGRAM_BOT_TOKEN: '123456:telegram-token-for-docs',
  TELEGRAM_WEBHOOK_SECRET: 'docs-secret-for-the-telegram-webhook-0123',
};

describe.each(DIALECTS)('/docs on $name', (dialect) => {
  for (const [label, env] of [
    ['with no chat channel configured', {}],
    ['with the Telegram webhook on', TELEGRAM],
  ] as const) {
    describe(label, () => {
      let server: RunningServer;
      let browser: Browser;
      /** Every console error and every CSP violation (reported by the page itself as well as the console). */
      const errors: string[] = [];

      beforeAll(async () => {
        server = await startServer(dialect, env);
        browser = await launchBrowser();
        browser.page.on('console', (message) => {
          if (message.type() === 'error') errors.push(`console error: ${message.text()}`);
        });
        await browser.page.exposeFunction('reportViolation', (text: string) => errors.push(`CSP violation: ${text}`));
        // The page reports each violation itself too (the console's wording may change).
        await browser.page.addInitScript(`document.addEventListener('securitypolicyviolation', (event) => {
          window.reportViolation(event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline') + ' at ' + event.sourceFile + ':' + event.lineNumber + ':' + event.columnNumber);
        });`);
      });

      afterAll(async () => {
        await browser?.close();
        await server?.close();
      });

      it('renders every documented section with no console error or CSP violation', async () => {
        const { page } = browser;
        const response = await page.goto(`${server.baseUrl}/docs`);
        expect(response?.status()).toBe(200);
        await expect.poll(() => page.locator('.opblock-tag').count(), { timeout: 20_000 }).toBeGreaterThan(3);
        // Open every operation, so that what renders only when opened renders too.
        await page.locator('.opblock-summary-control').first().click();
        await page.waitForTimeout(500);

        const sections = await page.locator('.opblock-tag-section').evaluateAll((nodes) =>
          nodes.map((node) => ({
            name: node.querySelector('.opblock-tag')?.getAttribute('data-tag') ?? '',
            operations: node.querySelectorAll('.opblock').length,
          })),
        );
        // Sections are collapsed or open; either way an empty one shows "No operations defined in spec!"
        expect(await page.getByText('No operations defined in spec!').count()).toBe(0);
        const names = sections.map((section) => section.name);
        expect(names).toEqual(expect.arrayContaining(['Customers', 'Customer identities', 'API keys', 'Health']));
        if ('TELEGRAM_BOT_TOKEN' in env) {
          expect(names).toContain('Channels');
          await expect
            .poll(() => page.locator('.opblock-summary-path[data-path="/v1/channels/telegram/webhook"]').count())
            .toBe(1);
        } else {
          expect(names).not.toContain('Channels');
        }
        expect([...errors, ...browser.problems]).toEqual([]);
      });
    });
  }
});
