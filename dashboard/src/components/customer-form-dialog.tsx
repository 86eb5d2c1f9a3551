import { useState } from 'preact/hooks';
import { ApiError, fieldErrors, messageOf } from '../api/api-error.js';
import type { Customer } from '../api/types.js';
import { useApi } from '../lib/api-context.js';
import { parseJsonObject, prettyJson } from '../lib/json.js';
import { Link } from '../lib/router.js';
import { TextField } from './field.js';
import { JsonEditor } from './json-editor.js';
import { Modal } from './modal.js';

interface CustomerFormDialogProps {
  /** Edit this customer; create one when absent. */
  customer?: Customer;
  onSaved: (customer: Customer) => void;
  onClose: () => void;
}

export function CustomerFormDialog({ customer, onSaved, onClose }: CustomerFormDialogProps) {
  const api = useApi();
  const [email, setEmail] = useState(customer?.email ?? '');
  const [name, setName] = useState(customer?.name ?? '');
  const [metadata, setMetadata] = useState(customer ? prettyJson(customer.metadata) : '{}');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  /** A 409 because the email belongs to an erased, suppressed person: lifting is on another page. */
  const [suppressed, setSuppressed] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const parsed = parseJsonObject(metadata);
    if (!parsed.ok) {
      setGeneral('Fix the metadata first: it is not a JSON object.');
      return;
    }
    setBusy(true);
    setErrors({});
    setGeneral(null);
    setSuppressed(false);
    const input = { email: email.trim(), name: name.trim() || null, metadata: parsed.value };
    try {
      const saved = customer ? await api.updateCustomer(customer.id, input) : await api.createCustomer(input);
      onSaved(saved);
    } catch (caught) {
      const byField = fieldErrors(caught);
      if (caught instanceof ApiError && caught.status === 409) {
        byField.email = messageOf(caught);
        setSuppressed(messageOf(caught).endsWith('is suppressed'));
      }
      setErrors(byField);
      if (Object.keys(byField).length === 0) setGeneral(messageOf(caught));
      setBusy(false);
    }
  };

  return (
    <Modal title={customer ? 'Edit customer' : 'New customer'} onClose={onClose}>
      <form onSubmit={submit} noValidate class="form">
        <TextField
          label="Email"
          type="email"
          value={email}
          onInput={setEmail}
          required
          maxLength={320}
          error={errors.email}
          inputMode="email"
        />
        {suppressed ? (
          <p class="notice notice--info">
            If the person asked to come back, lift the suppression of their email under{' '}
            <Link href="/suppressions">Suppressions</Link> first.
          </p>
        ) : null}
        <TextField label="Name" value={name} onInput={setName} maxLength={255} error={errors.name} spellcheck />
        <JsonEditor label="Metadata" value={metadata} onInput={setMetadata} error={errors.metadata} />
        {general ? (
          <p class="notice notice--error" role="alert">
            {general}
          </p>
        ) : null}
        <div class="modal__actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button button--primary" disabled={busy || !parseJsonObject(metadata).ok}>
            {busy ? 'Saving…' : customer ? 'Save changes' : 'Create customer'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
