import { useState } from 'preact/hooks';
import type { Customer, Identity } from '../api/types.js';
import { useApi } from '../lib/api-context.js';
import { customerLabel } from '../lib/format.js';
import { ErrorWithConflict } from './conflict-notice.js';
import { CustomerPicker } from './customer-picker.js';
import { Modal } from './modal.js';

interface MoveIdentityDialogProps {
  identity: Identity;
  /** The customer it is on now, by name. */
  fromLabel: string;
  onMoved: (identity: Identity, to: Customer) => void;
  onClose: () => void;
}

/** "Move to…": the same identity (same id, aliases and all) under another customer. */
export function MoveIdentityDialog({ identity, fromLabel, onMoved, onClose }: MoveIdentityDialogProps) {
  const api = useApi();
  const [target, setTarget] = useState<Customer | null>(null);
  const [keep, setKeep] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const label = `${identity.channel} ${identity.external_id}`;

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!target) return;
    setBusy(true);
    setError(null);
    try {
      const moved = await api.moveIdentity(identity.customer_id, identity.id, {
        customer_id: target.id,
        keep_verification: keep,
      });
      onMoved(moved, target);
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  };

  return (
    <Modal title={`Move ${label}`} onClose={onClose}>
      <form class="form" onSubmit={submit} noValidate>
        <p class="muted">
          From <strong>{fromLabel}</strong> to another customer. The agents answer the new owner from the next lookup; a
          claim code issued for it stops working.
        </p>
        <CustomerPicker
          label="Move to customer"
          selected={target}
          onSelect={setTarget}
          excludeId={identity.customer_id}
          autofocus
        />
        {identity.verified ? (
          <label class="check">
            <input type="checkbox" checked={keep} onChange={(e) => setKeep(e.currentTarget.checked)} />
            Keep it verified{identity.role_override ? ` with the ${identity.role_override} role` : ''} (only if both
            customers are the same person)
          </label>
        ) : null}
        {identity.verified && !keep ? (
          <p class="notice notice--warning">
            It arrives unverified and without a role: the proof was given by {fromLabel}'s person. Generate a claim code
            for {target ? customerLabel(target) : 'the new customer'} to verify it again.
          </p>
        ) : null}
        {error ? <ErrorWithConflict error={error} currentCustomerId={identity.customer_id} /> : null}
        <div class="modal__actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button button--primary" disabled={busy || !target}>
            {busy ? 'Moving…' : target ? `Move to ${customerLabel(target)}` : 'Move'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
