import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium); playwright-core brings no browser of its own. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Page errors and Content-Security-Policy violations seen so far: a working app has none. */
  problems: string[];
  close(): Promise<void>;
}

/** A fresh Chromium profile in a temp dir, thrown away on close. */
export async function launchBrowser(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'identity-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to (load|execute|apply)/i.test(message.text())) {
      problems.push(`CSP: ${message.text()}`);
    }
  });
  return {
    context,
    page,
    problems,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

const DOCS = fileURLToPath(new URL('../../../docs/', import.meta.url));

/**
 * Screenshots for the README, written only when asked (`SCREENSHOTS=1 npm run test:e2e`) so that
 * an ordinary run leaves the working tree clean.
 */
export async function screenshot(page: Page, name: string, enabled: boolean, fullPage = true): Promise<void> {
  if (!enabled || process.env.SCREENSHOTS !== '1') return;
  await mkdir(DOCS, { recursive: true });
  await page.screenshot({ path: join(DOCS, `${name}.png`), fullPage, animations: 'disabled' });
}
