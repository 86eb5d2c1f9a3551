import { useState } from 'preact/hooks';
import { ApiError, messageOf } from '../api/api-error.js';
import { createApi } from '../api/client.js';
import { TextField } from '../components/field.js';

interface SignInPageProps {
  onSignedIn: (key: string) => void;
  /** Why the operator is here again (a key that stopped working). */
  notice?: string | null;
}

function refusal(error: unknown): string {
  if (error instanceof ApiError && error.status === 401)
    return 'That API key was not accepted. Check it and try again.';
  if (error instanceof ApiError && error.status === 403) {
    return 'That key works, but only for the runtime. The dashboard needs a key with the admin scope.';
  }
  return messageOf(error);
}

export function SignInPage({ onSignedIn, notice }: SignInPageProps) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) {
      setError('Enter your API key.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await createApi(trimmed).checkKey();
      onSignedIn(trimmed);
    } catch (caught) {
      setError(refusal(caught));
      setBusy(false);
    }
  };

  return (
    <main class="sign-in" id="main">
      <form class="card sign-in__card" onSubmit={submit} noValidate>
        <p class="brand brand--large">
          <span class="brand__mark" aria-hidden="true">
            ID
          </span>
          Identity service
        </p>
        <h1>Sign in to the dashboard</h1>
        <p class="muted">
          Use an API key with the <strong>admin</strong> scope, e.g. one made with{' '}
          <code>identity-service keys create --name dashboard --scope admin</code>. It is kept in this tab only.
        </p>
        {notice ? <p class="notice notice--info">{notice}</p> : null}
        <TextField
          label="API key"
          type="password"
          value={key}
          onInput={setKey}
          required
          autoComplete="current-password"
          error={error ?? undefined}
        />
        <button type="submit" class="button button--primary button--block" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
