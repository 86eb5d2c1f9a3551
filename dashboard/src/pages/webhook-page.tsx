import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, messageOf } from '../api/api-error.js';
import type { Delivery, Webhook, WebhookWithSecret } from '../api/types.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { Modal } from '../components/modal.js';
import { SecretReveal } from '../components/secret-reveal.js';
import { EmptyState, ErrorNotice, Loading } from '../components/status.js';
import { SECRET_WARNING, WebhookFormDialog } from '../components/webhook-form-dialog.js';
import { useApi } from '../lib/api-context.js';
import { formatTime, shortId } from '../lib/format.js';
import { Link, navigate } from '../lib/router.js';
import { eventsText } from './webhooks-page.js';

/** How often the deliveries refresh while the page is open: attempts happen in the background. */
const POLL_MS = 2500;

type Dialog =
  | { kind: 'edit' }
  | { kind: 'rotate' }
  | { kind: 'delete' }
  | { kind: 'secret'; webhook: WebhookWithSecret };

function responseText(delivery: Delivery): string {
  if (delivery.status_code !== null) return `HTTP ${delivery.status_code}`;
  return delivery.error ?? 'No response';
}

const ok = (delivery: Delivery) =>
  delivery.status_code !== null && delivery.status_code >= 200 && delivery.status_code < 300;

export function WebhookPage({ webhookId }: { webhookId: string }) {
  const api = useApi();
  const [webhook, setWebhook] = useState<Webhook | null>(null);
  const [deliveries, setDeliveries] = useState<Delivery[] | null>(null);
  const [loadError, setLoadError] = useState<{ status: number | null; message: string } | null>(null);
  const [deliveriesError, setDeliveriesError] = useState<string | null>(null);
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [notice, setNotice] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);

  const loadDeliveries = () =>
    api.listDeliveries(webhookId).then(
      (list) => {
        setDeliveries(list);
        setDeliveriesError(null);
      },
      (caught: unknown) => setDeliveriesError(messageOf(caught)),
    );

  useEffect(() => {
    let current = true;
    api.getWebhook(webhookId).then(
      (found) => {
        if (!current) return;
        setWebhook(found);
        document.title = `Webhook ${found.url} · Identity service`;
        headingRef.current?.focus();
      },
      (caught: unknown) =>
        current &&
        setLoadError({ status: caught instanceof ApiError ? caught.status : null, message: messageOf(caught) }),
    );
    void loadDeliveries();
    const timer = setInterval(() => void loadDeliveries(), POLL_MS);
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, [api, webhookId]);

  const setEnabled = async (enabled: boolean) => {
    setBusy('enabled');
    setNotice(null);
    try {
      setWebhook(await api.updateWebhook(webhookId, { enabled }));
      setNotice({
        kind: 'success',
        text: enabled ? 'Enabled: events are sent again.' : 'Disabled: no events are sent until it is enabled again.',
      });
    } catch (caught) {
      setNotice({ kind: 'error', text: messageOf(caught) });
    } finally {
      setBusy(null);
    }
  };

  const resend = async (delivery: Delivery) => {
    setBusy(delivery.event_id);
    setNotice(null);
    try {
      await api.resendEvent(webhookId, delivery.event_id);
      setNotice({ kind: 'success', text: `Sending ${delivery.type} ${shortId(delivery.event_id)} again.` });
      void loadDeliveries();
    } catch (caught) {
      setNotice({ kind: 'error', text: messageOf(caught) });
    } finally {
      setBusy(null);
    }
  };

  if (loadError) {
    return (
      <section class="card stack">
        <h1>{loadError.status === 404 ? 'Webhook not found' : 'Could not load this webhook'}</h1>
        <ErrorNotice>{loadError.message}</ErrorNotice>
        <p>
          <Link href="/webhooks">Back to webhooks</Link>
        </p>
      </section>
    );
  }
  if (!webhook) return <Loading label="Loading webhook…" />;

  // "Send again" on each event's newest attempt (the list is newest first).
  const newest = new Set<Delivery>();
  const seen = new Set<string>();
  for (const delivery of deliveries ?? []) {
    if (seen.has(delivery.event_id)) continue;
    seen.add(delivery.event_id);
    newest.add(delivery);
  }

  return (
    <div class="stack stack--large">
      <nav aria-label="Breadcrumb" class="breadcrumb">
        <Link href="/webhooks">Webhooks</Link>
        <span aria-hidden="true"> / </span>
        <span aria-current="page" class="break-anywhere">
          {webhook.url}
        </span>
      </nav>

      <section class="card customer-header" aria-labelledby="webhook-heading">
        <div class="customer-header__main">
          <h1 id="webhook-heading" ref={headingRef} tabIndex={-1} class="break-anywhere">
            {webhook.url}
          </h1>
          {webhook.description ? <p>{webhook.description}</p> : null}
          <p>
            <span class={`badge ${webhook.enabled ? 'badge--success' : 'badge--muted'}`}>
              {webhook.enabled ? 'Enabled' : 'Disabled'}
            </span>{' '}
            <span class="muted">since {formatTime(webhook.created_at)}</span>
          </p>
          <p class="small">
            <strong>Events:</strong> {eventsText(webhook.events)}
          </p>
        </div>
        <div class="customer-header__actions">
          <button type="button" class="button" onClick={() => setDialog({ kind: 'edit' })}>
            Edit
          </button>
          <button
            type="button"
            class="button"
            onClick={() => void setEnabled(!webhook.enabled)}
            disabled={busy === 'enabled'}
          >
            {webhook.enabled ? 'Disable' : 'Enable'}
          </button>
          <button type="button" class="button" onClick={() => setDialog({ kind: 'rotate' })}>
            Rotate secret
          </button>
          <button type="button" class="button button--danger-ghost" onClick={() => setDialog({ kind: 'delete' })}>
            Delete
          </button>
        </div>
      </section>

      {notice ? (
        <p class={`notice notice--${notice.kind}`} role={notice.kind === 'error' ? 'alert' : 'status'}>
          {notice.text}
        </p>
      ) : null}

      <section class="card card--flush" aria-labelledby="deliveries-heading">
        <div class="card__header">
          <h2 id="deliveries-heading">Recent deliveries</h2>
          <button type="button" class="button button--small" onClick={() => void loadDeliveries()}>
            Refresh
          </button>
        </div>
        {deliveriesError ? (
          <ErrorNotice>Could not load the deliveries: {deliveriesError}</ErrorNotice>
        ) : !deliveries ? (
          <Loading label="Loading deliveries…" />
        ) : deliveries.length === 0 ? (
          <EmptyState title="Nothing sent yet.">Attempts show here as events happen.</EmptyState>
        ) : (
          <table class="table table--responsive deliveries">
            <caption class="visually-hidden">Delivery attempts, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Event</th>
                <th scope="col">Attempt</th>
                <th scope="col">Response</th>
                <th scope="col">Event status</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((delivery) => (
                <tr key={`${delivery.event_id}-${delivery.attempt}-${delivery.at}`} data-event-id={delivery.event_id}>
                  <td data-label="When">
                    <time dateTime={delivery.at}>{formatTime(delivery.at)}</time>
                  </td>
                  <td data-label="Event">
                    <code>{delivery.type}</code>
                    <span class="muted small" title={delivery.event_id}>
                      {' '}
                      {shortId(delivery.event_id)}
                    </span>
                  </td>
                  <td data-label="Attempt">{delivery.attempt}</td>
                  <td data-label="Response" class="break-anywhere">
                    <span class={`status-code status-code--${ok(delivery) ? 'ok' : 'fail'}`}>
                      {responseText(delivery)}
                    </span>
                    {delivery.status_code !== null && delivery.error ? (
                      <span class="muted small"> {delivery.error}</span>
                    ) : null}
                  </td>
                  <td data-label="Event status">
                    {/* Where the event stands now: said once, on its newest attempt. */}
                    {newest.has(delivery) && delivery.delivery_status ? (
                      <span class={`badge badge--delivery-${delivery.delivery_status}`}>
                        {delivery.delivery_status}
                      </span>
                    ) : null}
                  </td>
                  <td class="actions">
                    {newest.has(delivery) ? (
                      <button
                        type="button"
                        class="button button--small"
                        onClick={() => void resend(delivery)}
                        disabled={busy === delivery.event_id}
                        aria-label={`Send ${delivery.type} ${shortId(delivery.event_id)} again`}
                      >
                        Send again
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      {dialog?.kind === 'edit' ? (
        <WebhookFormDialog
          webhook={webhook}
          onClose={() => setDialog(null)}
          onSaved={(saved) => {
            setWebhook(saved);
            setDialog(null);
            setNotice({ kind: 'success', text: 'Saved.' });
          }}
        />
      ) : null}

      {dialog?.kind === 'rotate' ? (
        <ConfirmDialog
          title="Rotate the signing secret?"
          confirmLabel="Rotate secret"
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            const rotated = await api.rotateWebhookSecret(webhookId);
            setWebhook(rotated);
            setDialog({ kind: 'secret', webhook: rotated });
          }}
        >
          <p>
            A new secret signs every request from now on, retries included; the old one signs nothing more. Update the
            receiver at <strong class="break-anywhere">{webhook.url}</strong> at once, or it will refuse the events.
          </p>
        </ConfirmDialog>
      ) : null}

      {dialog?.kind === 'secret' ? (
        <Modal title="New signing secret" onClose={() => setDialog(null)}>
          <div class="form">
            <SecretReveal label="Signing secret" value={dialog.webhook.secret} warning={SECRET_WARNING} />
            <div class="modal__actions">
              <button type="button" class="button button--primary" onClick={() => setDialog(null)}>
                Done
              </button>
            </div>
          </div>
        </Modal>
      ) : null}

      {dialog?.kind === 'delete' ? (
        <ConfirmDialog
          title="Delete this webhook?"
          confirmLabel="Delete webhook"
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            await api.deleteWebhook(webhookId);
            setDialog(null);
            navigate('/webhooks');
          }}
        >
          <p>
            <strong class="break-anywhere">{webhook.url}</strong> gets no more events. To pause it instead, disable it.
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
