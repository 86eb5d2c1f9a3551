import { useId, useState } from 'preact/hooks';
import { conflictOf, fieldErrors, messageOf } from '../api/api-error.js';
import type { Identity } from '../api/types.js';
import { useApi } from '../lib/api-context.js';
import { parseJsonObject } from '../lib/json.js';
import { ChannelOptions, externalIdHint } from './channels.js';
import { ErrorWithConflict } from './conflict-notice.js';
import { TextField } from './field.js';
import { JsonEditor } from './json-editor.js';

/** Links a channel identity; the API's 422s are shown at the field they name (`loc`). */
export function LinkIdentityForm({ customerId, onLinked }: { customerId: string; onLinked: (i: Identity) => void }) {
  const api = useApi();
  const channelsId = useId();
  const rolesId = useId();
  const [channel, setChannel] = useState('telegram');
  const [externalId, setExternalId] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [role, setRole] = useState('');
  const [instanceId, setInstanceId] = useState('');
  const [metadata, setMetadata] = useState('{}');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);
  /** A 409 that says whose identity is in the way, shown with a link there. */
  const [conflict, setConflict] = useState<unknown>(null);
  const [success, setSuccess] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

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
    setConflict(null);
    setSuccess(null);
    try {
      const identity = await api.createIdentity(customerId, {
        channel,
        external_id: externalId,
        display_name: displayName.trim() || null,
        role_override: role.trim() || null,
        instance_id: instanceId.trim() || null,
        metadata: parsed.value,
      });
      setExternalId('');
      setDisplayName('');
      setRole('');
      setInstanceId('');
      setMetadata('{}');
      setSuccess(`Linked ${identity.channel} ${identity.external_id}.`);
      onLinked(identity);
    } catch (caught) {
      const byField = fieldErrors(caught);
      setErrors(byField);
      if (conflictOf(caught)) setConflict(caught);
      else if (Object.keys(byField).length === 0) setGeneral(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="form" onSubmit={submit} noValidate aria-label="Link an identity">
      <div class="form__row">
        <TextField
          label="Channel"
          name="channel"
          value={channel}
          onInput={setChannel}
          list={channelsId}
          required
          maxLength={64}
          error={errors.channel}
        />
        <TextField
          label="External id"
          name="external_id"
          value={externalId}
          onInput={setExternalId}
          required
          maxLength={255}
          hint={externalIdHint(channel)}
          error={errors.external_id}
        />
      </div>
      <ChannelOptions id={channelsId} />
      <div class="form__row">
        <TextField
          label="Display name"
          name="display_name"
          value={displayName}
          onInput={setDisplayName}
          maxLength={255}
          error={errors.display_name}
          spellcheck
        />
        <TextField
          label="Role override"
          name="role_override"
          value={role}
          onInput={setRole}
          list={rolesId}
          maxLength={64}
          hint="Empty for the channel's default role; owner for elevated access."
          error={errors.role_override}
        />
        <datalist id={rolesId}>
          <option value="owner" />
        </datalist>
      </div>
      <TextField
        label="Instance id"
        name="instance_id"
        value={instanceId}
        onInput={setInstanceId}
        hint="Leave empty to link for every agent instance."
        error={errors.instance_id}
      />
      <details class="disclosure">
        <summary>Metadata</summary>
        <JsonEditor label="Metadata" value={metadata} onInput={setMetadata} error={errors.metadata} />
      </details>
      {general ? (
        <p class="notice notice--error" role="alert">
          {general}
        </p>
      ) : null}
      {conflict ? <ErrorWithConflict error={conflict} currentCustomerId={customerId} /> : null}
      {success ? (
        <p class="notice notice--success" role="status">
          {success}
        </p>
      ) : null}
      <div>
        <button type="submit" class="button button--primary" disabled={busy}>
          {busy ? 'Linking…' : 'Link identity'}
        </button>
      </div>
    </form>
  );
}
