import { useEffect, useRef, useState } from 'preact/hooks';
import { messageOf } from '../api/api-error.js';
import type { LinkRequest, LinkRequestStatus, Page } from '../api/types.js';
import { ApproveLinkRequestDialog } from '../components/approve-link-request-dialog.js';
import { KNOWN_CHANNELS } from '../components/channels.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { Pager, useCursorPaging } from '../components/pager.js';
import { RedeemCodeBox } from '../components/redeem-code-box.js';
import { SelectField } from '../components/select-field.js';
import { EmptyState, ErrorNotice, Loading } from '../components/status.js';
import { useApi } from '../lib/api-context.js';
import { useCustomerNames } from '../lib/customer-names.js';
import { formatTime, shortId } from '../lib/format.js';
import { accountLabel, announceLinkRequestsChanged, LINK_REQUEST_STATUSES, statusLabel } from '../lib/link-requests.js';
import { Link, navigate } from '../lib/router.js';

const PAGE_SIZE = 25;
/** The chat channels people ask from, before the other known ones. */
const CHANNELS = [...new Set(['telegram', 'whatsapp', 'slack', 'discord', ...KNOWN_CHANNELS])];

export interface LinkRequestFilters {
  status: LinkRequestStatus | '';
  channel: string;
}

export function readLinkRequestFilters(search: URLSearchParams): LinkRequestFilters {
  const status = search.get('status') ?? '';
  return {
    status: LINK_REQUEST_STATUSES.some((item) => item.value === status) ? (status as LinkRequestStatus) : '',
    channel: search.get('channel') ?? '',
  };
}

function filtersUrl(filters: LinkRequestFilters): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value) params.set(name, value);
  const text = params.toString();
  return text ? `/link-requests?${text}` : '/link-requests';
}

/** What happened last on this page, said once at the top (with where the account went). */
interface Outcome {
  text: string;
  customerId?: string;
  customerName?: string;
}

export function LinkRequestsPage({ filters }: { filters: LinkRequestFilters }) {
  const api = useApi();
  const filterKey = JSON.stringify(filters);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const paging = useCursorPaging(filterKey, () => headingRef.current?.focus());
  const { cursor } = paging;
  const [version, setVersion] = useState(0);
  const pageKey = JSON.stringify([filterKey, cursor]);
  const [loaded, setLoaded] = useState<{ key: string; page: Page<LinkRequest> } | null>(null);
  // A reload after a decision (`version`) keeps the rows on screen until the new ones come.
  const page = loaded?.key === pageKey ? loaded.page : null;
  const names = useCustomerNames(page?.items ?? null);
  const [error, setError] = useState<string | null>(null);
  const [approving, setApproving] = useState<LinkRequest | null>(null);
  const [rejecting, setRejecting] = useState<LinkRequest | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  useEffect(() => {
    document.title = 'Link requests · Identity service';
    headingRef.current?.focus();
  }, []);

  useEffect(() => {
    let current = true;
    setError(null);
    api
      .listLinkRequests({ status: filters.status || null, channel: filters.channel || null, cursor, limit: PAGE_SIZE })
      .then(
        (result) => current && setLoaded({ key: pageKey, page: result }),
        (caught: unknown) => current && setError(messageOf(caught)),
      );
    return () => {
      current = false;
    };
  }, [api, pageKey, version]);

  const apply = (changed: Partial<LinkRequestFilters>) =>
    navigate(filtersUrl({ ...filters, ...changed }), { replace: true });
  const filtered = Boolean(filters.status || filters.channel);
  const reload = () => setVersion((v) => v + 1);

  return (
    <div class="stack stack--large">
      <div class="page-header">
        <h1 id="link-requests-heading" ref={headingRef} tabIndex={-1}>
          Link requests
        </h1>
      </div>
      <p class="muted">
        People the service does not know yet ask to be linked (<code>/link</code> in a chat, or the agent runtime asks
        for them) and get a code. Link them to a customer here.
      </p>

      {outcome ? (
        <p class="notice notice--success" role="status">
          {outcome.text}
          {outcome.customerId ? (
            <>
              {' '}
              <Link href={`/customers/${outcome.customerId}`}>Open {outcome.customerName}</Link>
            </>
          ) : null}
        </p>
      ) : null}

      <div class="layout layout--redeem">
        <div class="stack">
          <RedeemCodeBox
            onRedeemed={() => {
              setOutcome(null);
              reload();
            }}
          />
        </div>
        <section class="stack" aria-labelledby="history-heading">
          <h2 id="history-heading">History</h2>
          <form class="card filters" aria-label="Filter the link requests" onSubmit={(event) => event.preventDefault()}>
            <SelectField
              label="Status"
              value={filters.status}
              onChange={(status) => apply({ status: status as LinkRequestFilters['status'] })}
            >
              <option value="">Any status</option>
              {LINK_REQUEST_STATUSES.map((item) => (
                <option key={item.value} value={item.value}>
                  {item.label}
                </option>
              ))}
            </SelectField>
            <SelectField label="Channel" value={filters.channel} onChange={(channel) => apply({ channel })}>
              <option value="">Any channel</option>
              {CHANNELS.map((channel) => (
                <option key={channel} value={channel}>
                  {channel}
                </option>
              ))}
              {filters.channel && !CHANNELS.includes(filters.channel) ? (
                <option value={filters.channel}>{filters.channel}</option>
              ) : null}
            </SelectField>
            {filtered ? (
              <div class="filters__actions">
                <button type="button" class="button" onClick={() => navigate('/link-requests', { replace: true })}>
                  Clear filters
                </button>
              </div>
            ) : null}
          </form>

          <div class="card card--flush">
            {error ? (
              <ErrorNotice>Could not load the link requests: {error}</ErrorNotice>
            ) : !page ? (
              <Loading label="Loading link requests…" />
            ) : page.items.length === 0 ? (
              <EmptyState
                title={filtered ? 'No request matches these filters.' : 'Nobody has asked to be linked yet.'}
              />
            ) : (
              <table class="table table--responsive link-requests">
                <caption class="visually-hidden">Link requests, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Asked</th>
                    <th scope="col">Account</th>
                    <th scope="col">Status</th>
                    <th scope="col">Customer</th>
                    <th scope="col">
                      <span class="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((request) => (
                    <tr key={request.id} data-link-request={request.id} data-status={request.status}>
                      <td data-label="Asked">
                        <time dateTime={request.created_at}>{formatTime(request.created_at)}</time>
                      </td>
                      <td data-label="Account">
                        <span class="account">
                          <span class="channel">{request.channel}</span> <code>{request.external_id}</code>
                          {request.display_name ? <span class="muted small"> {request.display_name}</span> : null}
                        </span>
                      </td>
                      <td data-label="Status">
                        <span class={`badge badge--status-${request.status}`}>{statusLabel(request.status)}</span>{' '}
                        <span class="muted small status-when">
                          {request.status === 'pending' ? (
                            <>
                              until <time dateTime={request.expires_at}>{formatTime(request.expires_at)}</time>
                            </>
                          ) : request.decided_at ? (
                            <time dateTime={request.decided_at}>{formatTime(request.decided_at)}</time>
                          ) : null}
                        </span>
                      </td>
                      <td data-label="Customer">
                        {request.customer_id ? (
                          <Link href={`/customers/${request.customer_id}`} title={request.customer_id}>
                            {names.get(request.customer_id) ?? `Customer ${shortId(request.customer_id)}`}
                          </Link>
                        ) : (
                          <span class="muted">—</span>
                        )}
                      </td>
                      <td class="actions">
                        {request.status === 'pending' ? (
                          <div class="row-actions">
                            <button
                              type="button"
                              class="button button--small"
                              onClick={() => setApproving(request)}
                              aria-label={`Approve ${accountLabel(request)} without a code`}
                            >
                              Approve without code
                            </button>
                            <button
                              type="button"
                              class="button button--small button--danger-ghost"
                              onClick={() => setRejecting(request)}
                              aria-label={`Reject ${accountLabel(request)}`}
                            >
                              Reject
                            </button>
                          </div>
                        ) : null}
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
      </div>

      {approving ? (
        <ApproveLinkRequestDialog
          request={approving}
          onClose={() => setApproving(null)}
          onApproved={(result, customerName) => {
            setApproving(null);
            setOutcome({
              text: `${accountLabel(result.identity)} is linked to ${customerName}, unverified.`,
              customerId: result.identity.customer_id,
              customerName,
            });
            announceLinkRequestsChanged();
            reload();
          }}
        />
      ) : null}
      {rejecting ? (
        <ConfirmDialog
          title="Reject this link request?"
          confirmLabel="Reject request"
          onClose={() => setRejecting(null)}
          onConfirm={async () => {
            await api.rejectLinkRequest(rejecting.id);
            setRejecting(null);
            setOutcome({ text: `The request of ${accountLabel(rejecting)} is rejected.` });
            announceLinkRequestsChanged();
            reload();
          }}
        >
          <p>
            <strong>{accountLabel(rejecting)}</strong>
            {rejecting.display_name ? ` (${rejecting.display_name})` : ''} will not be linked, and its code stops
            working. If the request came from a chat, the person is told there. They can ask again.
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
