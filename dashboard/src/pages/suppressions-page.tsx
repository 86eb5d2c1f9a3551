import { useEffect, useRef, useState } from 'preact/hooks';
import { messageOf } from '../api/api-error.js';
import type { Suppression } from '../api/types.js';
import { type LiftPreset, LiftSuppressionDialog } from '../components/lift-suppression-dialog.js';
import { EmptyState, ErrorNotice, Loading } from '../components/status.js';
import { useApi } from '../lib/api-context.js';
import { formatTime } from '../lib/format.js';

const kindLabel = (item: Suppression) => (item.kind === 'email' ? 'Email' : 'Chat account');

const presetOf = (item: Suppression): LiftPreset =>
  item.kind === 'email' ? { kind: 'email' } : { kind: 'external_id', channel: item.channel ?? '' };

/** Values of erased people kept from coming back, and the way to let one back. */
export function SuppressionsPage() {
  const api = useApi();
  const [items, setItems] = useState<Suppression[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Open with a row's kind (and channel), or with no preset from the page's own button.
  const [lifting, setLifting] = useState<{ preset: LiftPreset | null } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);

  const load = () =>
    api.listSuppressions().then(
      (list) => {
        setItems(list);
        setError(null);
      },
      (caught: unknown) => setError(messageOf(caught)),
    );

  useEffect(() => {
    document.title = 'Suppressions · Identity service';
    headingRef.current?.focus();
    void load();
  }, [api]);

  return (
    <section class="stack" aria-labelledby="suppressions-heading">
      <div class="page-header">
        <h1 id="suppressions-heading" ref={headingRef} tabIndex={-1}>
          Suppressions
        </h1>
        <button
          type="button"
          class="button"
          onClick={() => {
            setNotice(null);
            setLifting({ preset: null });
          }}
        >
          Lift a value…
        </button>
      </div>
      <p class="muted">
        When a customer is erased with <strong>suppress</strong>, their email and chat accounts are kept as keyed hashes
        so that nobody can add them again: creating a customer, linking an account, an import or a chat's /link is
        refused. Only a hash is kept, so this list shows what kind of value each one is, never the value. To let one
        back (the person asks to return), lift it with the value itself.
      </p>
      {notice ? (
        <p class="notice notice--success" role="status">
          {notice}
        </p>
      ) : null}

      <div class="card card--flush">
        {error ? (
          <ErrorNotice>Could not load the suppressions: {error}</ErrorNotice>
        ) : !items ? (
          <Loading label="Loading suppressions…" />
        ) : items.length === 0 ? (
          <EmptyState title="Nothing is suppressed.">
            Erasing a customer with “Keep them from being added again” lists their values here.
          </EmptyState>
        ) : (
          <table class="table table--responsive">
            <caption class="visually-hidden">Suppressed values, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Channel</th>
                <th scope="col">Suppressed</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => (
                <tr key={item.id} data-suppression-id={item.id}>
                  <td data-label="Kind">{kindLabel(item)}</td>
                  <td data-label="Channel">{item.channel ?? <span class="muted">—</span>}</td>
                  <td data-label="Suppressed">
                    <time dateTime={item.created_at}>{formatTime(item.created_at)}</time>
                  </td>
                  <td class="actions">
                    <button
                      type="button"
                      class="button button--small"
                      onClick={() => {
                        setNotice(null);
                        setLifting({ preset: presetOf(item) });
                      }}
                      aria-label={`Lift: ${item.kind === 'email' ? 'an email' : `a ${item.channel} account`}, suppressed ${formatTime(item.created_at)}`}
                    >
                      Lift…
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>

      {lifting ? (
        <LiftSuppressionDialog
          preset={lifting.preset}
          onClose={() => setLifting(null)}
          onLifted={(what) => {
            setLifting(null);
            setNotice(`Lifted: ${what} can be added again.`);
            void load();
          }}
        />
      ) : null}
    </section>
  );
}
