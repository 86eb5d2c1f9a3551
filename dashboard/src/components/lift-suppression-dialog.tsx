import { useId, useState } from 'preact/hooks';
import { ApiError, fieldErrors, messageOf } from '../api/api-error.js';
import type { SuppressedValue } from '../api/types.js';
import { useApi } from '../lib/api-context.js';
import { ChannelOptions, externalIdHint } from './channels.js';
import { TextField } from './field.js';
import { Modal } from './modal.js';

/** What kind of value to lift: fixed when the operator chose a row, chosen in the dialog otherwise. */
export type LiftPreset = { kind: 'email' } | { kind: 'external_id'; channel: string };

interface LiftSuppressionDialogProps {
  preset: LiftPreset | null;
  /** `what` names the value lifted, without the value ("this email", "this telegram account"). */
  onLifted: (what: string) => void;
  onClose: () => void;
}

/**
 * Suppressions are keyed hashes: the list cannot show a value, and lifting one takes the value
 * itself, typed as the person gives it (the service normalizes it as it did when erasing).
 */
export function LiftSuppressionDialog({ preset, onLifted, onClose }: LiftSuppressionDialogProps) {
  const api = useApi();
  const id = useId();
  const [kind, setKind] = useState<LiftPreset['kind']>(preset?.kind ?? 'email');
  const [email, setEmail] = useState('');
  const [channel, setChannel] = useState(preset?.kind === 'external_id' ? preset.channel : 'telegram');
  const [externalId, setExternalId] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const what = kind === 'email' ? 'this email' : `this ${channel.trim().toLowerCase() || 'chat'} account`;

  const submit = async (event: Event) => {
    event.preventDefault();
    const value: SuppressedValue =
      kind === 'email' ? { email: email.trim() } : { channel: channel.trim(), external_id: externalId.trim() };
    setBusy(true);
    setErrors({});
    setGeneral(null);
    try {
      await api.liftSuppression(value);
      onLifted(what);
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 404) {
        setGeneral(
          `Nothing suppressed matches ${what}: it was not suppressed, or was lifted already. Check the value as the person gives it.`,
        );
      } else {
        const byField = fieldErrors(caught);
        setErrors(byField);
        if (Object.keys(byField).length === 0) setGeneral(messageOf(caught));
      }
      setBusy(false);
    }
  };

  return (
    <Modal title="Lift a suppression" onClose={onClose}>
      <form class="form" onSubmit={submit} noValidate>
        <p class="modal__body">
          Only a hash of each value is kept, so the list cannot show it: type the value the person gives you. Once
          lifted, it can be added again: by hand, by an import or from a chat.
        </p>
        {preset ? null : (
          <fieldset class="fieldset">
            <legend>What to lift</legend>
            <div class="choice">
              <label class="check">
                <input type="radio" name={`${id}-kind`} checked={kind === 'email'} onChange={() => setKind('email')} />
                An email
              </label>
              <label class="check">
                <input
                  type="radio"
                  name={`${id}-kind`}
                  checked={kind === 'external_id'}
                  onChange={() => setKind('external_id')}
                />
                A chat account
              </label>
            </div>
          </fieldset>
        )}
        {kind === 'email' ? (
          <TextField
            label="Email"
            type="email"
            value={email}
            onInput={setEmail}
            required
            maxLength={320}
            inputMode="email"
            error={errors.email}
            autofocus
          />
        ) : (
          <>
            {preset?.kind === 'external_id' ? (
              <p>
                Channel: <strong>{preset.channel}</strong>
              </p>
            ) : (
              <>
                <TextField
                  label="Channel"
                  value={channel}
                  onInput={setChannel}
                  required
                  maxLength={64}
                  list={`${id}-channels`}
                  error={errors.channel}
                />
                <ChannelOptions id={`${id}-channels`} />
              </>
            )}
            <TextField
              label="External id"
              value={externalId}
              onInput={setExternalId}
              required
              maxLength={255}
              hint={externalIdHint(channel)}
              error={errors.external_id}
              autofocus={Boolean(preset)}
            />
          </>
        )}
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
            {busy ? 'Lifting…' : 'Lift'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
