import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiError, messageOf } from '../api/api-error.js';
import type { AuditEvent, Customer, Page } from '../api/types.js';
import { CustomerPicker } from '../components/customer-picker.js';
import { ChangeLines, ErasedMark, JsonBlock } from '../components/erased.js';
import { Pager, useCursorPaging } from '../components/pager.js';
import { SelectField } from '../components/select-field.js';
import { EmptyState, ErrorNotice, Loading } from '../components/status.js';
import { useApi } from '../lib/api-context.js';
import { ACTION_FAMILIES, ACTIONS, actionLabel, asObject, changes, ERASED, isErased } from '../lib/audit.js';
import { useCustomerNames } from '../lib/customer-names.js';
import { formatTime, shortId } from '../lib/format.js';
import { Link, navigate } from '../lib/router.js';

const PAGE_SIZE = 25;

/** Who acts without a key of their own, as the audit trail names them: offered beside the keys' names. */
const KEYLESS_ACTORS = ['cli', 'telegram-webhook', 'slack-webhook', 'whatsapp-webhook', 'discord-webhook'];

export interface AuditFilters {
  action: string;
  actor: string;
  customer_id: string;
}

export function readAuditFilters(search: URLSearchParams): AuditFilters {
  return {
    action: search.get('action') ?? '',
    actor: search.get('actor') ?? '',
    customer_id: search.get('customer_id') ?? '',
  };
}

function auditUrl(filters: AuditFilters): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value) params.set(name, value);
  const text = params.toString();
  return text ? `/audit?${text}` : '/audit';
}

/** The customer an event is about: by name once known, by the email the event carries, else by id. */
function customerText(event: AuditEvent, names: Map<string, string>): string {
  const known = event.customer_id ? names.get(event.customer_id) : undefined;
  if (known) return known;
  const subject = asObject(event.after ?? event.before);
  if (event.action.startsWith('customer.') && typeof subject.email === 'string' && subject.email !== ERASED) {
    return subject.email;
  }
  return `Customer ${shortId(event.customer_id ?? '')}`;
}

export function AuditPage({ filters }: { filters: AuditFilters }) {
  const api = useApi();
  const actorsId = useId();
  const filterKey = JSON.stringify(filters);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const paging = useCursorPaging(filterKey, () => headingRef.current?.focus());
  const { cursor } = paging;
  const pageKey = JSON.stringify([filterKey, cursor]);
  const [loaded, setLoaded] = useState<{ key: string; page: Page<AuditEvent> } | null>(null);
  const page = loaded?.key === pageKey ? loaded.page : null;
  const names = useCustomerNames(page?.items ?? null);
  const [error, setError] = useState<string | null>(null);
  const [actorDraft, setActorDraft] = useState(filters.actor);
  const [actors, setActors] = useState<string[]>(KEYLESS_ACTORS);
  const [customer, setCustomer] = useState<Customer | null>(null);
  const [customerGone, setCustomerGone] = useState(false);

  useEffect(() => {
    document.title = 'Audit trail · Identity service';
    headingRef.current?.focus();
    // The keys' names, for the actor box's suggestions.
    api.listApiKeys().then(
      (keys) => setActors([...new Set([...keys.map((key) => key.name), ...KEYLESS_ACTORS])]),
      () => undefined,
    );
  }, [api]);

  useEffect(() => setActorDraft(filters.actor), [filters.actor]);

  // The chosen customer's name for the filter, if the customer still exists.
  useEffect(() => {
    let current = true;
    setCustomerGone(false);
    if (!filters.customer_id) {
      setCustomer(null);
      return;
    }
    if (customer?.id === filters.customer_id) return;
    api.getCustomer(filters.customer_id).then(
      (found) => current && setCustomer(found),
      (caught: unknown) => {
        if (!current) return;
        setCustomer(null);
        setCustomerGone(caught instanceof ApiError && (caught.status === 404 || caught.status === 410));
      },
    );
    return () => {
      current = false;
    };
  }, [api, filters.customer_id]);

  useEffect(() => {
    let current = true;
    setError(null);
    api
      .listAudit({
        action: filters.action || null,
        actor: filters.actor || null,
        customer_id: filters.customer_id || null,
        cursor,
        limit: PAGE_SIZE,
      })
      .then(
        (result) => current && setLoaded({ key: pageKey, page: result }),
        (caught: unknown) => current && setError(messageOf(caught)),
      );
    return () => {
      current = false;
    };
  }, [api, pageKey]);

  // The actor box applies as the operator types, without a request per keystroke.
  useEffect(() => {
    if (actorDraft.trim() === filters.actor) return;
    const timer = setTimeout(() => apply({ actor: actorDraft.trim() }), 400);
    return () => clearTimeout(timer);
  }, [actorDraft]);

  const apply = (changed: Partial<AuditFilters>) => navigate(auditUrl({ ...filters, ...changed }), { replace: true });
  const filtered = Boolean(filters.action || filters.actor || filters.customer_id);

  return (
    <section class="stack" aria-labelledby="audit-heading">
      <div class="page-header">
        <h1 id="audit-heading" ref={headingRef} tabIndex={-1}>
          Audit trail
        </h1>
      </div>
      <p class="muted">Every change to the service, newest first: who did it, when, and what it changed.</p>

      <form
        class="card filters"
        aria-label="Filter the audit trail"
        onSubmit={(event) => {
          event.preventDefault();
          apply({ actor: actorDraft.trim() });
        }}
      >
        <SelectField label="Action" value={filters.action} onChange={(action) => apply({ action })}>
          <option value="">Any action</option>
          <optgroup label="Families">
            {ACTION_FAMILIES.map((family) => (
              <option key={family.value} value={family.value}>
                {family.label}
              </option>
            ))}
          </optgroup>
          <optgroup label="One action">
            {Object.entries(ACTIONS).map(([value, label]) => (
              <option key={value} value={value}>
                {label} ({value})
              </option>
            ))}
          </optgroup>
          {filters.action && !ACTIONS[filters.action] && !ACTION_FAMILIES.some((f) => f.value === filters.action) ? (
            <option value={filters.action}>{filters.action}</option>
          ) : null}
        </SelectField>
        <div class="field">
          <label for={`${actorsId}-actor`}>Actor</label>
          <input
            id={`${actorsId}-actor`}
            type="search"
            list={actorsId}
            value={actorDraft}
            onInput={(event) => setActorDraft(event.currentTarget.value)}
            placeholder="A key's name, cli, telegram…"
            maxLength={100}
            autoComplete="off"
            spellcheck={false}
          />
          <datalist id={actorsId}>
            {actors.map((actor) => (
              <option key={actor} value={actor} />
            ))}
          </datalist>
        </div>
        {filters.customer_id && !customer ? (
          <div class="field">
            <span class="field__label">Customer</span>
            <div class="picked">
              <span class="picked__who">
                <code>{filters.customer_id}</code>
                {customerGone ? <span class="muted small"> (deleted, merged or erased)</span> : null}
              </span>
              <button
                type="button"
                class="button button--small"
                onClick={() => apply({ customer_id: '' })}
                aria-label="Change customer"
              >
                Change
              </button>
            </div>
          </div>
        ) : (
          <CustomerPicker
            label="Customer"
            browse={false}
            selected={customer}
            onSelect={(chosen) => {
              setCustomer(chosen);
              apply({ customer_id: chosen?.id ?? '' });
            }}
          />
        )}
        <div class="filters__actions">
          <button type="submit" class="visually-hidden" tabIndex={-1}>
            Apply
          </button>
          {filtered ? (
            <button
              type="button"
              class="button"
              onClick={() => {
                setCustomer(null);
                navigate('/audit', { replace: true });
              }}
            >
              Clear filters
            </button>
          ) : null}
        </div>
      </form>

      <div class="card card--flush">
        {error ? (
          <ErrorNotice>Could not load the audit trail: {error}</ErrorNotice>
        ) : !page ? (
          <Loading label="Loading the audit trail…" />
        ) : page.items.length === 0 ? (
          <EmptyState title={filtered ? 'Nothing matches these filters.' : 'Nothing recorded yet.'} />
        ) : (
          <table class="table table--responsive audit">
            <caption class="visually-hidden">Audit events, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Action</th>
                <th scope="col">Actor</th>
                <th scope="col">Customer</th>
                <th scope="col">What changed</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((event) => (
                <tr key={event.id} data-action={event.action}>
                  <td data-label="When">
                    <time dateTime={event.at}>{formatTime(event.at)}</time>
                  </td>
                  <td data-label="Action">
                    <strong>{actionLabel(event.action)}</strong>
                    <code class="audit__action">{event.action}</code>
                  </td>
                  <td data-label="Actor">
                    {event.actor}
                    {event.source === 'platform' ? <span class="muted small"> (platform)</span> : null}
                  </td>
                  <td data-label="Customer">
                    {event.customer_id && (isErased(event) || event.action === 'customer.erased') ? (
                      // Its page is a 404 now: the id is all there is to show.
                      <span title={event.customer_id}>
                        Customer {shortId(event.customer_id)}… <ErasedMark />
                      </span>
                    ) : event.customer_id ? (
                      <Link href={`/customers/${event.customer_id}`} title={event.customer_id}>
                        {customerText(event, names)}
                      </Link>
                    ) : (
                      <span class="muted">—</span>
                    )}
                  </td>
                  <td data-label="What changed" class="audit__changes">
                    <ChangeLines lines={changes(event)} />
                    <details class="disclosure disclosure--small">
                      <summary>Before and after</summary>
                      <JsonBlock value={{ before: event.before, after: event.after }} />
                    </details>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>

      {page ? (
        <Pager paging={paging} nextCursor={page.next_cursor} previousLabel="← Newer" nextLabel="Older →" />
      ) : null}
    </section>
  );
}
