import { useEffect, useState } from 'preact/hooks';
import { messageOf } from '../api/api-error.js';
import type { Customer, MergePreview, MergeResult } from '../api/types.js';
import { useApi } from '../lib/api-context.js';
import { customerLabel } from '../lib/format.js';
import { prettyJson } from '../lib/json.js';
import { CustomerPicker } from './customer-picker.js';
import { Modal } from './modal.js';
import { Loading } from './status.js';
import { ProofBadge, VerifiedBadge } from './verified-badge.js';

interface MergeDialogProps {
  /** The customer whose page this is: it is merged into the one chosen, and goes. */
  source: Customer;
  onMerged: (result: MergeResult) => void;
  onClose: () => void;
}

/**
 * "Merge into…": choose the customer to keep, read the preview (the API's dry run: what moves and
 * the customer that results, nothing written), then confirm.
 */
export function MergeDialog({ source, onMerged, onClose }: MergeDialogProps) {
  const api = useApi();
  const [target, setTarget] = useState<Customer | null>(null);
  const [preview, setPreview] = useState<MergePreview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    setPreview(null);
    setError(null);
    if (!target) return;
    let current = true;
    api.previewMerge(target.id, source.id).then(
      (result) => current && setPreview(result),
      (caught: unknown) => current && setError(messageOf(caught)),
    );
    return () => {
      current = false;
    };
  }, [api, target, source.id]);

  const confirm = async () => {
    if (!target) return;
    setBusy(true);
    setError(null);
    try {
      onMerged(await api.merge(target.id, source.id));
    } catch (caught) {
      setError(messageOf(caught));
      setBusy(false);
    }
  };

  const moving = preview?.identities_to_move ?? [];
  const sourceLabel = customerLabel(source);
  return (
    <Modal title={`Merge ${sourceLabel} into…`} onClose={onClose}>
      <div class="form">
        <p class="muted">
          When one person shows up as two customers: the one you choose is kept, and gets this one's identities.
        </p>
        <CustomerPicker
          label="Customer to keep"
          selected={target}
          onSelect={setTarget}
          excludeId={source.id}
          autofocus
        />
        {target && !preview && !error ? <Loading label="Preparing the preview…" /> : null}
        {preview && target ? (
          <section class="merge-preview" aria-label="Merge preview">
            <h3>Preview: nothing has changed yet</h3>
            <div class="merge-preview__result">
              <p class="small muted">The customer that results</p>
              <p>
                <strong data-preview="name">{preview.result.name ?? '(no name)'}</strong>{' '}
                <span class="muted" data-preview="email">
                  {preview.result.email}
                </span>
              </p>
              {Object.keys(preview.result.metadata).length > 0 ? (
                <pre class="code-block" data-preview="metadata">
                  {prettyJson(preview.result.metadata)}
                </pre>
              ) : null}
            </div>
            <p class="small muted">
              {moving.length === 0
                ? `${sourceLabel} has no identities to move.`
                : moving.length === 1
                  ? `1 identity moves, as it is (verification kept):`
                  : `${moving.length} identities move, as they are (verification kept):`}
            </p>
            {moving.length > 0 ? (
              <ul class="merge-preview__identities" aria-label="Identities that move">
                {moving.map((identity) => (
                  <li key={identity.id}>
                    <span class="channel">{identity.channel}</span> <code>{identity.external_id}</code>{' '}
                    <VerifiedBadge verified={identity.verified} at={null} />
                    {identity.verified ? <ProofBadge via={identity.verified_via} /> : null}
                  </li>
                ))}
              </ul>
            ) : null}
            <p class="notice notice--warning">
              {sourceLabel} ({preview.source.email}) then goes: its page leads to {customerLabel(preview.target)}, and
              its email is free again. You can undo the merge from {customerLabel(preview.target)}'s history.
            </p>
          </section>
        ) : null}
        {error ? (
          <p class="notice notice--error" role="alert">
            {error}
          </p>
        ) : null}
        <div class="modal__actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="button" class="button button--danger" onClick={confirm} disabled={busy || !preview}>
            {busy ? 'Merging…' : target ? `Merge into ${customerLabel(target)}` : 'Merge'}
          </button>
        </div>
      </div>
    </Modal>
  );
}
