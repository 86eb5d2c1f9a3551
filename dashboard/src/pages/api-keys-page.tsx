import { useEffect, useRef, useState } from 'preact/hooks';
import { fieldErrors, messageOf } from '../api/api-error.js';
import type { ApiKey, NewApiKey, Scope } from '../api/types.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { TextField } from '../components/field.js';
import { Modal } from '../components/modal.js';
import { SecretReveal } from '../components/secret-reveal.js';
import { SelectField } from '../components/select-field.js';
import { EmptyState, ErrorNotice, Loading } from '../components/status.js';
import { useApi } from '../lib/api-context.js';
import { formatTime } from '../lib/format.js';

const SCOPES: Record<Scope, string> = {
  runtime: 'runtime: lookup, claim redemption, reading customers',
  admin: 'admin: everything, this dashboard included',
};

export function ApiKeysPage() {
  const api = useApi();
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);

  const load = () =>
    api.listApiKeys().then(
      (list) => {
        setKeys(list);
        setError(null);
      },
      (caught: unknown) => setError(messageOf(caught)),
    );

  useEffect(() => {
    document.title = 'API keys · Identity service';
    headingRef.current?.focus();
    void load();
  }, [api]);

  return (
    <section class="stack" aria-labelledby="keys-heading">
      <div class="page-header">
        <h1 id="keys-heading" ref={headingRef} tabIndex={-1}>
          API keys
        </h1>
        <button type="button" class="button button--primary" onClick={() => setCreating(true)}>
          New API key
        </button>
      </div>
      <p class="muted">
        The agent runtime holds a <strong>runtime</strong> key; operators and tools hold <strong>admin</strong> keys. A
        key is shown once, when it is made; the service keeps only its hash. Revoking one stops it at once.
      </p>
      {notice ? (
        <p class="notice notice--success" role="status">
          {notice}
        </p>
      ) : null}

      <div class="card card--flush">
        {error ? (
          <ErrorNotice>Could not load the keys: {error}</ErrorNotice>
        ) : !keys ? (
          <Loading label="Loading keys…" />
        ) : keys.length === 0 ? (
          <EmptyState title="No API keys.">Make one with New API key.</EmptyState>
        ) : (
          <table class="table table--responsive">
            <caption class="visually-hidden">Active API keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Scope</th>
                <th scope="col">Prefix</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => (
                <tr key={key.id} data-key-id={key.id}>
                  <td data-label="Name">
                    <strong>{key.name}</strong>
                    {api.mayBeOwnKey(key) ? <span class="badge badge--muted badge--inline">this dashboard</span> : null}
                  </td>
                  <td data-label="Scope">
                    <span class={`badge badge--scope-${key.scope}`}>{key.scope}</span>
                  </td>
                  <td data-label="Prefix">
                    <code>{key.prefix}…</code>
                  </td>
                  <td data-label="Created">
                    <time dateTime={key.created_at}>{formatTime(key.created_at)}</time>
                  </td>
                  <td data-label="Last used">
                    {key.last_used_at ? (
                      <time dateTime={key.last_used_at}>{formatTime(key.last_used_at)}</time>
                    ) : (
                      <span class="muted">Never</span>
                    )}
                  </td>
                  <td class="actions">
                    <button
                      type="button"
                      class="button button--small button--danger-ghost"
                      onClick={() => setRevoking(key)}
                      aria-label={`Revoke key ${key.name}`}
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>

      {creating ? (
        <NewKeyDialog
          onCreated={() => void load()}
          onClose={() => {
            setCreating(false);
            setNotice(null);
          }}
        />
      ) : null}

      {revoking ? (
        <ConfirmDialog
          title="Revoke this API key?"
          confirmLabel="Revoke key"
          onClose={() => setRevoking(null)}
          onConfirm={async () => {
            const own = api.mayBeOwnKey(revoking);
            await api.revokeApiKey(revoking.id);
            setKeys((list) => (list ?? []).filter((item) => item.id !== revoking.id));
            setNotice(`Revoked ${revoking.name}.`);
            setRevoking(null);
            // Signed in with it: the next request is refused, and the app asks for another key.
            if (own) void load();
          }}
        >
          <p>
            <strong>{revoking.name}</strong> ({revoking.scope}, <code>{revoking.prefix}…</code>) stops working at once:
            whatever uses it gets 401 from its next request. This cannot be undone.
          </p>
          {api.mayBeOwnKey(revoking) ? (
            <p class="notice notice--warning">
              This dashboard is signed in with this key: you will have to sign in with another one.
            </p>
          ) : null}
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

function NewKeyDialog({ onCreated, onClose }: { onCreated: (key: NewApiKey) => void; onClose: () => void }) {
  const api = useApi();
  const [name, setName] = useState('');
  const [scope, setScope] = useState<Scope>('runtime');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<NewApiKey | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setGeneral(null);
    try {
      const key = await api.createApiKey({ name: name.trim(), scope });
      setCreated(key);
      onCreated(key);
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
      <Modal title={`API key ${created.name}`} onClose={onClose}>
        <div class="form">
          <SecretReveal
            label="API key"
            value={created.key}
            warning={`Copy this ${created.scope} key now and keep it somewhere safe: it is not shown again, not here and not by the API.`}
          />
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
    <Modal title="New API key" onClose={onClose}>
      <form class="form" onSubmit={submit} noValidate>
        <TextField
          label="Name"
          value={name}
          onInput={setName}
          required
          maxLength={100}
          hint="Who or what holds it, e.g. telegram-bot or matt-laptop."
          error={errors.name}
          autofocus
        />
        <SelectField label="Scope" value={scope} onChange={(value) => setScope(value as Scope)} error={errors.scope}>
          {(Object.keys(SCOPES) as Scope[]).map((value) => (
            <option key={value} value={value}>
              {SCOPES[value]}
            </option>
          ))}
        </SelectField>
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
            {busy ? 'Creating…' : 'Create key'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
