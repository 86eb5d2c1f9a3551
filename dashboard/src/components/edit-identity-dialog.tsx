import { useState } from 'preact/hooks';
import { fieldErrors, messageOf } from '../api/api-error.js';
import type { Identity } from '../api/types.js';
import { useApi } from '../lib/api-context.js';
import { parseJsonObject, prettyJson } from '../lib/json.js';
import { TextField } from './field.js';
import { JsonEditor } from './json-editor.js';
import { Modal } from './modal.js';

interface EditIdentityDialogProps {
  identity: Identity;
  onSaved: (identity: Identity) => void;
  onClose: () => void;
}

export function EditIdentityDialog({ identity, onSaved, onClose }: EditIdentityDialogProps) {
  const api = useApi();
  const [displayName, setDisplayName] = useState(identity.display_name ?? '');
  const [role, setRole] = useState(identity.role_override ?? '');
  const [metadata, setMetadata] = useState(prettyJson(identity.metadata));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const parsed = parseJsonObject(metadata);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!parsed.ok) return;
    setBusy(true);
    setErrors({});
    setGeneral(null);
    try {
      const saved = await api.updateIdentity(identity.customer_id, identity.id, {
        display_name: displayName.trim() || null,
        role_override: role.trim() || null,
        metadata: parsed.value,
      });
      onSaved(saved);
    } catch (caught) {
      const byField = fieldErrors(caught);
      setErrors(byField);
      if (Object.keys(byField).length === 0) setGeneral(messageOf(caught));
      setBusy(false);
    }
  };

  return (
    <Modal title={`Edit ${identity.channel} ${identity.external_id}`} onClose={onClose}>
      <form class="form" onSubmit={submit} noValidate>
        <TextField
          label="Display name"
          value={displayName}
          onInput={setDisplayName}
          maxLength={255}
          error={errors.display_name}
          spellcheck
        />
        <TextField
          label="Role override"
          value={role}
          onInput={setRole}
          maxLength={64}
          hint="Empty for the channel's default role; owner for elevated access."
          error={errors.role_override}
        />
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
          <button type="submit" class="button button--primary" disabled={busy || !parsed.ok}>
            {busy ? 'Saving…' : 'Save changes'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
