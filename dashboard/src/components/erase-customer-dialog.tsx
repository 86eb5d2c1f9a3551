import { useId, useState } from 'preact/hooks';
import { fieldErrors, messageOf } from '../api/api-error.js';
import type { Customer, Erasure } from '../api/types.js';
import { useApi } from '../lib/api-context.js';
import { customerLabel } from '../lib/format.js';
import { TextField } from './field.js';
import { Modal } from './modal.js';

interface EraseCustomerDialogProps {
  customer: Customer;
  identityCount: number;
  /** Customers merged into this one (merges not undone): the same person, erased with it. */
  mergedInCount: number;
  onErased: (erasure: Erasure) => void;
  onClose: () => void;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * Erasure is the one action with no way back, so the operator types the customer's email before
 * the button wakes up (any case: the service keeps emails in lower case), and the dialog says
 * what goes, what stays and where copies live on.
 */
export function EraseCustomerDialog({
  customer,
  identityCount,
  mergedInCount,
  onErased,
  onClose,
}: EraseCustomerDialogProps) {
  const api = useApi();
  const suppressHintId = useId();
  const [typed, setTyped] = useState('');
  const [suppress, setSuppress] = useState(false);
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const matches = typed.trim().toLowerCase() === customer.email.toLowerCase();

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!matches) return;
    setBusy(true);
    setErrors({});
    setGeneral(null);
    try {
      const trimmed = reason.trim();
      onErased(await api.eraseCustomer(customer.id, { suppress, ...(trimmed ? { reason: trimmed } : {}) }));
    } catch (caught) {
      const byField = fieldErrors(caught);
      setErrors(byField);
      if (Object.keys(byField).length === 0) setGeneral(messageOf(caught));
      setBusy(false);
    }
  };

  return (
    <Modal title="Erase this customer?" onClose={onClose} role="alertdialog">
      <form class="form" onSubmit={submit} noValidate>
        <div class="modal__body stack">
          <p>
            Erasing forgets <strong>{customerLabel(customer)}</strong> for good, as an answer to an erasure request. If
            they also asked for their data, use <strong>Export data</strong> first.
          </p>
          <ul class="plain-list">
            <li>
              The customer,{' '}
              {identityCount === 0
                ? 'its claim codes'
                : identityCount === 1
                  ? 'its linked identity (with its aliases and claim code)'
                  : `its ${identityCount} linked identities (with their aliases and claim codes)`}{' '}
              and the link requests of its accounts are deleted.
            </li>
            <li>
              {mergedInCount > 0
                ? `The ${plural(mergedInCount, 'customer', 'customers')} merged into this one ${mergedInCount === 1 ? 'is' : 'are'} the same person and ${mergedInCount === 1 ? 'is' : 'are'} erased too. `
                : 'Any customer merged into this one is erased too. '}
              Merges into this customer can no longer be undone.
            </li>
            <li>
              The audit trail keeps what was done, when and by whom, but every value in it (email, name, accounts)
              becomes “erased”.
            </li>
            <li>
              Webhook events not yet delivered are dropped. Receivers that already got events keep them: a{' '}
              <code>customer.erased</code> event tells them which ids to forget.
            </li>
            <li>Backups taken before now still hold the person until they age out.</li>
          </ul>
          <p class="notice notice--warning">This cannot be undone.</p>
        </div>

        <TextField
          label="Type the customer's email to confirm"
          type="email"
          value={typed}
          onInput={setTyped}
          required
          maxLength={320}
          inputMode="email"
          hint={
            <>
              It is <code>{customer.email}</code>.
            </>
          }
          autofocus
        />

        <div class="field">
          <label class="check">
            <input
              type="checkbox"
              checked={suppress}
              onChange={(event) => setSuppress(event.currentTarget.checked)}
              aria-describedby={suppressHintId}
            />
            Keep them from being added again (suppress)
          </label>
          <p id={suppressHintId} class="field__hint">
            Their email and chat accounts are kept as keyed hashes, never as readable text, so nobody can add them again
            (by hand, an import or a chat's /link) until you lift it under <strong>Suppressions</strong>.
          </p>
        </div>

        <TextField
          label="Reason"
          value={reason}
          onInput={setReason}
          maxLength={500}
          error={errors.reason}
          hint="For the audit trail, such as a ticket number. It is kept as written: no names or emails here."
          spellcheck
        />

        {general ? (
          <p class="notice notice--error" role="alert">
            {general}
          </p>
        ) : null}
        <div class="modal__actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button button--danger" disabled={!matches || busy}>
            {busy ? 'Erasing…' : 'Erase for good'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
