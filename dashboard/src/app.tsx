import { useMemo, useState } from 'preact/hooks';
import { createApi } from './api/client.js';
import { ApiContext } from './lib/api-context.js';
import { usePendingCount } from './lib/link-requests.js';
import { Link, useLocation } from './lib/router.js';
import { clearApiKey, loadApiKey, saveApiKey } from './lib/session.js';
import { ApiKeysPage } from './pages/api-keys-page.js';
import { AuditPage, readAuditFilters } from './pages/audit-page.js';
import { CustomerPage } from './pages/customer-page.js';
import { CustomersPage } from './pages/customers-page.js';
import { LinkRequestsPage, readLinkRequestFilters } from './pages/link-requests-page.js';
import { NotFoundPage } from './pages/not-found-page.js';
import { SignInPage } from './pages/sign-in-page.js';
import { SuppressionsPage } from './pages/suppressions-page.js';
import { WebhookPage } from './pages/webhook-page.js';
import { WebhooksPage } from './pages/webhooks-page.js';

const CUSTOMER_PATH = /^\/customers\/([^/]+)\/?$/;
const WEBHOOK_PATH = /^\/webhooks\/([^/]+)\/?$/;

function Routes() {
  const { path, search } = useLocation();
  if (path === '/' || path === '/customers') return <CustomersPage query={search.get('q') ?? ''} />;
  const match = CUSTOMER_PATH.exec(path);
  if (match?.[1]) {
    return (
      <CustomerPage key={match[1]} customerId={decodeURIComponent(match[1])} mergedFrom={search.get('merged_from')} />
    );
  }
  if (path === '/link-requests') return <LinkRequestsPage filters={readLinkRequestFilters(search)} />;
  if (path === '/api-keys') return <ApiKeysPage />;
  if (path === '/webhooks') return <WebhooksPage />;
  const webhook = WEBHOOK_PATH.exec(path);
  if (webhook?.[1]) return <WebhookPage key={webhook[1]} webhookId={decodeURIComponent(webhook[1])} />;
  if (path === '/audit') return <AuditPage filters={readAuditFilters(search)} />;
  if (path === '/suppressions') return <SuppressionsPage />;
  return <NotFoundPage />;
}

/** The console's sections; a section is current on its own path and the paths below it. */
const SECTIONS: { href: string; label: string; matches: (path: string) => boolean }[] = [
  { href: '/', label: 'Customers', matches: (path) => path === '/' || path.startsWith('/customers') },
  { href: '/link-requests', label: 'Link requests', matches: (path) => path === '/link-requests' },
  { href: '/api-keys', label: 'API keys', matches: (path) => path === '/api-keys' },
  { href: '/webhooks', label: 'Webhooks', matches: (path) => path === '/webhooks' || path.startsWith('/webhooks/') },
  { href: '/audit', label: 'Audit trail', matches: (path) => path === '/audit' },
  { href: '/suppressions', label: 'Suppressions', matches: (path) => path === '/suppressions' },
];

/** The pending requests waiting for an operator, beside "Link requests"; nothing when there are none. */
function PendingBadge({ path }: { path: string }) {
  const { count, more } = usePendingCount(path);
  if (!count) return null;
  const shown = more ? `${count}+` : String(count);
  return (
    <span class="nav-badge" data-pending-count={shown}>
      <span aria-hidden="true">{shown}</span>
      <span class="visually-hidden">, {shown} pending</span>
    </span>
  );
}

function MainNav({ onSignOut }: { onSignOut: () => void }) {
  const { path } = useLocation();
  return (
    <nav aria-label="Main" class="topbar__nav">
      {SECTIONS.map((section) => (
        <Link
          key={section.href}
          href={section.href}
          class="topbar__link"
          aria-current={section.matches(path) ? 'page' : undefined}
        >
          {section.label}
          {section.href === '/link-requests' ? <PendingBadge path={path} /> : null}
        </Link>
      ))}
      <a href="/docs" class="topbar__link">
        API docs
      </a>
      <button type="button" class="button button--ghost" onClick={onSignOut}>
        Sign out
      </button>
    </nav>
  );
}

export function App() {
  const [apiKey, setApiKey] = useState<string | null>(loadApiKey);
  const [notice, setNotice] = useState<string | null>(null);

  const signOut = (why: string | null) => {
    clearApiKey();
    setNotice(why);
    setApiKey(null);
  };

  const api = useMemo(
    () =>
      apiKey
        ? createApi(apiKey, () => signOut('Your API key stopped working (it may have been revoked). Sign in again.'))
        : null,
    [apiKey],
  );

  if (!api) {
    return (
      <SignInPage
        notice={notice}
        onSignedIn={(key) => {
          saveApiKey(key);
          setNotice(null);
          setApiKey(key);
        }}
      />
    );
  }

  return (
    <ApiContext.Provider value={api}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <div class="topbar__inner">
          <Link href="/" class="brand">
            <span class="brand__mark" aria-hidden="true">
              ID
            </span>
            Identity service
          </Link>
          <MainNav onSignOut={() => signOut('You are signed out.')} />
        </div>
      </header>
      <main id="main" class="page">
        <Routes />
      </main>
    </ApiContext.Provider>
  );
}
