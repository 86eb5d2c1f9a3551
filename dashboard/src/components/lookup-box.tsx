import { useEffect, useId, useState } from 'preact/hooks';
import { fieldErrors, messageOf } from '../api/api-error.js';
import type { RawResponse } from '../api/client.js';
import { useApi } from '../lib/api-context.js';
import { prettyJson } from '../lib/json.js';
import { ChannelOptions } from './channels.js';
import { TextField } from './field.js';

export interface LookupRequest {
  channel: string;
  external_id: string;
  instance_id?: string | null;
  /** Changes on every request, so the same identity can be looked up twice. */
  nonce: number;
}

/** "Who is telegram 12345?": the reverse lookup, shown exactly as the agent runtime receives it. */
export function LookupBox({ request }: { request?: LookupRequest | null }) {
  const api = useApi();
  const listId = useId();
  const [channel, setChannel] = useState('telegram');
  const [externalId, setExternalId] = useState('');
  const [instanceId, setInstanceId] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<(RawResponse & { asked: string }) | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);

  const run = async (query: { channel: string; external_id: string; instance_id: string }) => {
    setBusy(true);
    setErrors({});
    setGeneral(null);
    try {
      const response = await api.lookup({
        channel: query.channel,
        external_id: query.external_id,
        instance_id: query.instance_id.trim() || undefined,
      });
      setResult({ ...response, asked: `${query.channel.trim()} ${query.external_id.trim()}` });
    } catch (caught) {
      setResult(null);
      const byField = fieldErrors(caught, 'query');
      setErrors(byField);
      if (Object.keys(byField).length === 0) setGeneral(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    if (!request) return;
    const query = {
      channel: request.channel,
      external_id: request.external_id,
      instance_id: request.instance_id ?? '',
    };
    setChannel(query.channel);
    setExternalId(query.external_id);
    setInstanceId(query.instance_id);
    void run(query);
  }, [request?.nonce]);

  const found = result?.status === 200 ? (result.body as { customer_email?: string; verified?: boolean }) : null;

  return (
    <section class="card stack" aria-labelledby={`${listId}-title`} id="lookup">
      <div>
        <h2 id={`${listId}-title`}>Reverse lookup</h2>
        <p class="muted">Who is this? The answer the agent runtime gets before a conversation.</p>
      </div>
      <form
        class="form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void run({ channel, external_id: externalId, instance_id: instanceId });
        }}
      >
        <div class="form__row">
          <TextField
            label="Channel"
            value={channel}
            onInput={setChannel}
            list={listId}
            required
            error={errors.channel}
          />
          <TextField
            label="External id"
            value={externalId}
            onInput={setExternalId}
            required
            placeholder="12345"
            error={errors.external_id}
          />
        </div>
        <ChannelOptions id={listId} />
        <TextField
          label="Instance id"
          value={instanceId}
          onInput={setInstanceId}
          hint="An agent instance's UUID; its own scoped link wins over the unscoped one."
          error={errors.instance_id}
        />
        <button type="submit" class="button" disabled={busy}>
          {busy ? 'Looking up…' : 'Look up'}
        </button>
      </form>
      {general ? (
        <p class="notice notice--error" role="alert">
          {general}
        </p>
      ) : null}
      {result ? (
        <div class="lookup-result" aria-live="polite">
          <p class="lookup-result__summary">
            <span class={`status-code status-code--${result.status === 200 ? 'ok' : 'miss'}`}>{result.status}</span>
            {found
              ? ` ${result.asked} is ${found.customer_email}${found.verified ? ' (verified)' : ' (not verified)'}`
              : ` Nobody owns ${result.asked}`}
          </p>
          <pre class="code-block">{prettyJson(result.body)}</pre>
        </div>
      ) : null}
    </section>
  );
}
