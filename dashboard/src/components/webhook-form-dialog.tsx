import { useId, useState } from 'preact/hooks';
import { fieldErrors, messageOf } from '../api/api-error.js';
import { EVENT_TYPES, type Webhook, type WebhookWithSecret } from '../api/types.js';
import { useApi } from '../lib/api-context.js';
import { TextField } from './field.js';
import { Modal } from './modal.js';
import { SecretReveal } from './secret-reveal.js';

interface WebhookFormDialogProps {
  /** Edit this webhook; create one when absent. */
  webhook?: Webhook;
  onSaved: (webhook: Webhook) => void;
  onClose: () => void;
}

export const SECRET_WARNING =
  'Copy this signing secret into the receiver now: it is not shown again. The receiver checks each ' +
  "request's webhook-signature with it (Standard Webhooks, e.g. the standardwebhooks package).";

/**
 * Creates or edits a subscription: URL, description and the events it wants (or every one, `*`).
 * A new webhook's signing secret is shown in the same dialog, once.
 */
export function WebhookFormDialog({ webhook, onSaved, onClose }: WebhookFormDialogProps) {
  const api = useApi();
  const eventsId = useId();
  const [url, setUrl] = useState(webhook?.url ?? 'https://');
  const [description, setDescription] = useState(webhook?.description ?? '');
  const [all, setAll] = useState(webhook ? webhook.events.includes('*') : true);
  const [events, setEvents] = useState<string[]>(webhook?.events.filter((event) => event !== '*') ?? []);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<WebhookWithSecret | null>(null);

  const toggle = (event: string, on: boolean) =>
    setEvents((list) => (on ? [...list, event] : list.filter((item) => item !== event)));

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setGeneral(null);
    const input = {
      url: url.trim(),
      events: all ? ['*'] : EVENT_TYPES.filter((type) => events.includes(type)),
      description: description.trim() || null,
    };
    try {
      if (webhook) {
        onSaved(await api.updateWebhook(webhook.id, input));
      } else {
        const made = await api.createWebhook(input);
        setCreated(made);
        onSaved(made);
      }
    } catch (caught) {
      const byField = fieldErrors(caught);
      setErrors(byField);
      if (Object.keys(byField).length === 0) setGeneral(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };

  if (created) {
    return (
      <Modal title="Webhook created" onClose={onClose}>
        <div class="form">
          <p class="break-anywhere">
            Events go to <strong>{created.url}</strong>.
          </p>
          <SecretReveal label="Signing secret" value={created.secret} warning={SECRET_WARNING} />
          <div class="modal__actions">
            <button type="button" class="button button--primary" onClick={onClose}>
              Done
            </button>
          </div>
        </div>
      </Modal>
    );
  }

  return (
    <Modal title={webhook ? 'Edit webhook' : 'New webhook'} onClose={onClose}>
      <form class="form" onSubmit={submit} noValidate>
        <TextField
          label="URL"
          value={url}
          onInput={setUrl}
          required
          maxLength={2048}
          hint="http(s). Events are POSTed here, signed; anything but a 2xx is retried for a day."
          error={errors.url}
          autofocus
        />
        <TextField
          label="Description"
          value={description}
          onInput={setDescription}
          maxLength={500}
          error={errors.description}
          spellcheck
        />
        <fieldset
          class={`fieldset${errors.events ? ' field--invalid' : ''}`}
          aria-describedby={errors.events ? `${eventsId}-error` : undefined}
        >
          <legend>Events</legend>
          <label class="check">
            <input type="checkbox" checked={all} onChange={(e) => setAll(e.currentTarget.checked)} />
            Every event, including types added later (<code>*</code>)
          </label>
          <div class="check-grid">
            {EVENT_TYPES.map((type) => (
              <label key={type} class="check">
                <input
                  type="checkbox"
                  checked={all || events.includes(type)}
                  disabled={all}
                  onChange={(e) => toggle(type, e.currentTarget.checked)}
                />
                <code>{type}</code>
              </label>
            ))}
          </div>
          {errors.events ? (
            <p id={`${eventsId}-error`} class="field__error" role="alert">
              {errors.events}
            </p>
          ) : null}
        </fieldset>
        {general ? (
          <p class="notice notice--error" role="alert">
            {general}
          </p>
        ) : null}
        <div class="modal__actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button button--primary" disabled={busy}>
            {busy ? 'Saving…' : webhook ? 'Save changes' : 'Create webhook'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
