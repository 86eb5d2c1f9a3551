import { useMemo, useState } from 'preact/hooks';
import { createApi } from './api/client.js';
import { ApiContext } from './lib/api-context.js';
import { Link, useLocation } from './lib/router.js';
import { clearApiKey, loadApiKey, saveApiKey } from './lib/session.js';
import { CustomerPage } from './pages/customer-page.js';
import { CustomersPage } from './pages/customers-page.js';
import { NotFoundPage } from './pages/not-found-page.js';
import { SignInPage } from './pages/sign-in-page.js';

const CUSTOMER_PATH = /^\/customers\/([^/]+)\/?$/;

function Routes() {
  const { path, search } = useLocation();
  if (path === '/' || path === '/customers') return <CustomersPage query={search.get('q') ?? ''} />;
  const match = CUSTOMER_PATH.exec(path);
  if (match?.[1]) return <CustomerPage key={match[1]} customerId={decodeURIComponent(match[1])} />;
  return <NotFoundPage />;
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
          <nav aria-label="Main" class="topbar__nav">
            <Link href="/">Customers</Link>
            <a href="/docs">API docs</a>
            <button type="button" class="button button--ghost" onClick={() => signOut('You are signed out.')}>
              Sign out
            </button>
          </nav>
        </div>
      </header>
      <main id="main" class="page">
        <Routes />
      </main>
    </ApiContext.Provider>
  );
}
