import { useState } from 'preact/hooks';
import { fieldErrors } from '../api/api-error.js';
import type { Identity } from '../api/types.js';
import { useApi } from '../lib/api-context.js';
import { ErrorWithConflict } from './conflict-notice.js';
import { TextField } from './field.js';
import { Modal } from './modal.js';

function aliasHint(channel: string): string {
  switch (channel) {
    case 'whatsapp':
      return "Another phone number, or the person's WhatsApp user id (BSUID), e.g. US.13491208655302741918.";
    case 'slack':
      return 'Another Slack user id of the same person, e.g. the enterprise-wide W012A3CDE.';
    default:
      return `Another ${channel} id of the same account, written as the external id would be.`;
  }
}

interface AliasDialogProps {
  identity: Identity;
  onSaved: (identity: Identity) => void;
  onClose: () => void;
}

/** Adds an external id under which the same account is found (lookups and claims alike). */
export function AliasDialog({ identity, onSaved, onClose }: AliasDialogProps) {
  const api = useApi();
  const [externalId, setExternalId] = useState('');
  const [fieldError, setFieldError] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const label = `${identity.channel} ${identity.external_id}`;

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setFieldError(undefined);
    setError(null);
    try {
      onSaved(await api.addAlias(identity.customer_id, identity.id, externalId));
    } catch (caught) {
      const byField = fieldErrors(caught);
      if (byField.external_id) setFieldError(byField.external_id);
      else setError(caught);
      setBusy(false);
    }
  };

  return (
    <Modal title={`Add an alias to ${label}`} onClose={onClose}>
      <form class="form" onSubmit={submit} noValidate>
        <p class="muted">
          The agents will recognise this account under the alias too, and a claim code can be redeemed from it.
        </p>
        <TextField
          label="Alias"
          value={externalId}
          onInput={setExternalId}
          required
          maxLength={255}
          hint={aliasHint(identity.channel)}
          error={fieldError}
          autofocus
        />
        {error ? <ErrorWithConflict error={error} currentCustomerId={identity.customer_id} /> : null}
        <div class="modal__actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button button--primary" disabled={busy}>
            {busy ? 'Adding…' : 'Add alias'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
