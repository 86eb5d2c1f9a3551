import { useEffect, useRef, useState } from 'preact/hooks';
import { messageOf } from '../api/api-error.js';
import type { Customer, Page } from '../api/types.js';
import { CustomerFormDialog } from '../components/customer-form-dialog.js';
import { LookupBox } from '../components/lookup-box.js';
import { Pager, useCursorPaging } from '../components/pager.js';
import { EmptyState, ErrorNotice, Loading } from '../components/status.js';
import { useApi } from '../lib/api-context.js';
import { takeFlash } from '../lib/flash.js';
import { formatTime } from '../lib/format.js';
import { Link, navigate } from '../lib/router.js';

const PAGE_SIZE = 20;

export function CustomersPage({ query }: { query: string }) {
  const api = useApi();
  const [draft, setDraft] = useState(query);
  // Where we are in the list, for one search: this page's cursor and those before it ("Previous").
  const headingRef = useRef<HTMLHeadingElement>(null);
  const paging = useCursorPaging(query, () => headingRef.current?.focus());
  const { cursor } = paging;
  // A page remembers what it was loaded for, so an old page never shows under a new search or cursor.
  const [loaded, setLoaded] = useState<{ key: string; page: Page<Customer> } | null>(null);
  const key = JSON.stringify([query, cursor]);
  const page = loaded?.key === key ? loaded.page : null;
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  // What the page before did (an erasure), said once.
  const [flash] = useState(takeFlash);

  useEffect(() => {
    document.title = 'Customers · Identity service';
  }, []);

  // The search box follows the address (back and forward buttons).
  useEffect(() => setDraft(query), [query]);

  useEffect(() => {
    let current = true;
    setError(null);
    api.listCustomers({ q: query || undefined, cursor, limit: PAGE_SIZE }).then(
      (result) => current && setLoaded({ key, page: result }),
      (caught: unknown) => current && setError(messageOf(caught)),
    );
    return () => {
      current = false;
    };
  }, [api, key]);

  // Search as the operator types, without a request per keystroke.
  useEffect(() => {
    if (draft.trim() === query) return;
    const timer = setTimeout(() => search(draft), 300);
    return () => clearTimeout(timer);
  }, [draft]);

  const search = (text: string) => {
    const q = text.trim();
    navigate(q ? `/?q=${encodeURIComponent(q)}` : '/', { replace: true });
  };

  return (
    <div class="layout layout--with-aside">
      <section class="stack" aria-labelledby="customers-heading">
        <div class="page-header">
          <h1 id="customers-heading" ref={headingRef} tabIndex={-1}>
            Customers
          </h1>
          <button type="button" class="button button--primary" onClick={() => setCreating(true)}>
            New customer
          </button>
        </div>

        {flash ? (
          <p class="notice notice--success" role="status">
            {flash}
          </p>
        ) : null}

        <form
          class="search"
          onSubmit={(event) => {
            event.preventDefault();
            search(draft);
          }}
        >
          <label for="customer-search" class="visually-hidden">
            Search customers by email or name
          </label>
          <input
            id="customer-search"
            type="search"
            placeholder="Search by email or name"
            value={draft}
            onInput={(event) => setDraft(event.currentTarget.value)}
            maxLength={200}
          />
          <button type="submit" class="button">
            Search
          </button>
        </form>

        <div class="card card--flush">
          {error ? (
            <ErrorNotice>Could not load customers: {error}</ErrorNotice>
          ) : !page ? (
            <Loading label="Loading customers…" />
          ) : page.items.length === 0 ? (
            query ? (
              <EmptyState title={`No customer matches “${query}”.`}>Try part of the email or of the name.</EmptyState>
            ) : (
              <EmptyState title="No customers yet.">
                Create the first one with <strong>New customer</strong>, then link their chat identities.
              </EmptyState>
            )
          ) : (
            <table class="table table--responsive">
              <caption class="visually-hidden">Customers, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Email</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((customer) => (
                  <tr key={customer.id}>
                    <td data-label="Name">
                      <Link href={`/customers/${customer.id}`} class="strong-link">
                        {customer.name || <span class="muted">(no name)</span>}
                      </Link>
                    </td>
                    <td data-label="Email">{customer.email}</td>
                    <td data-label="Created">
                      <time dateTime={customer.created_at}>{formatTime(customer.created_at)}</time>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>

        {page ? (
          <Pager paging={paging} nextCursor={page.next_cursor} previousLabel="← Previous" nextLabel="Next →" />
        ) : null}
      </section>

      <aside class="stack">
        <LookupBox />
      </aside>

      {creating ? (
        <CustomerFormDialog
          onClose={() => setCreating(false)}
          onSaved={(customer) => {
            setCreating(false);
            navigate(`/customers/${customer.id}`);
          }}
        />
      ) : null}
    </div>
  );
}
