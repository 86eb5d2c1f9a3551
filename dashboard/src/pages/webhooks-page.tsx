import { useEffect, useRef, useState } from 'preact/hooks';
import { messageOf } from '../api/api-error.js';
import type { Webhook } from '../api/types.js';
import { EmptyState, ErrorNotice, Loading } from '../components/status.js';
import { WebhookFormDialog } from '../components/webhook-form-dialog.js';
import { useApi } from '../lib/api-context.js';
import { formatTime } from '../lib/format.js';
import { Link } from '../lib/router.js';

export function eventsText(events: string[]): string {
  return events.includes('*') ? 'All events' : events.join(', ');
}

export function WebhooksPage() {
  const api = useApi();
  const [webhooks, setWebhooks] = useState<Webhook[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const headingRef = useRef<HTMLHeadingElement>(null);

  const load = () =>
    api.listWebhooks().then(
      (list) => {
        setWebhooks(list);
        setError(null);
      },
      (caught: unknown) => setError(messageOf(caught)),
    );

  useEffect(() => {
    document.title = 'Webhooks · Identity service';
    headingRef.current?.focus();
    void load();
  }, [api]);

  return (
    <section class="stack" aria-labelledby="webhooks-heading">
      <div class="page-header">
        <h1 id="webhooks-heading" ref={headingRef} tabIndex={-1}>
          Webhooks
        </h1>
        <button type="button" class="button button--primary" onClick={() => setCreating(true)}>
          New webhook
        </button>
      </div>
      <p class="muted">
        Other systems (the runtime's caches, a CRM) learn of every change as it happens: each event is POSTed to their
        URL, signed the Standard Webhooks way, and retried for a day until they answer 2xx.
      </p>

      <div class="card card--flush">
        {error ? (
          <ErrorNotice>Could not load the webhooks: {error}</ErrorNotice>
        ) : !webhooks ? (
          <Loading label="Loading webhooks…" />
        ) : webhooks.length === 0 ? (
          <EmptyState title="No webhooks yet.">Add one with New webhook to send events to another system.</EmptyState>
        ) : (
          <table class="table table--responsive">
            <caption class="visually-hidden">Webhook subscriptions</caption>
            <thead>
              <tr>
                <th scope="col">URL</th>
                <th scope="col">Events</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {webhooks.map((webhook) => (
                <tr key={webhook.id} data-webhook-id={webhook.id}>
                  <td data-label="URL" class="break-anywhere">
                    <Link href={`/webhooks/${webhook.id}`} class="strong-link">
                      {webhook.url}
                    </Link>
                    {webhook.description ? <p class="muted small">{webhook.description}</p> : null}
                  </td>
                  <td data-label="Events" class="small">
                    {eventsText(webhook.events)}
                  </td>
                  <td data-label="Status">
                    <span class={`badge ${webhook.enabled ? 'badge--success' : 'badge--muted'}`}>
                      {webhook.enabled ? 'Enabled' : 'Disabled'}
                    </span>
                  </td>
                  <td data-label="Created">
                    <time dateTime={webhook.created_at}>{formatTime(webhook.created_at)}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>

      {creating ? <WebhookFormDialog onSaved={() => void load()} onClose={() => setCreating(false)} /> : null}
    </section>
  );
}
