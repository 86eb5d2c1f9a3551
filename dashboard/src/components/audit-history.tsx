import { useEffect, useState } from 'preact/hooks';
import { messageOf } from '../api/api-error.js';
import type { AuditEvent, Merge } from '../api/types.js';
import { useApi } from '../lib/api-context.js';
import { actionLabel, asObject, changes } from '../lib/audit.js';
import { formatTime } from '../lib/format.js';
import { ChangeLines, JsonBlock } from './erased.js';
import { EmptyState, ErrorNotice, Loading } from './status.js';

interface AuditHistoryProps {
  customerId: string;
  /** Changes whenever the page changed something, so the history reloads. */
  version: number;
  /** This customer's merges, so that a merge in the history can be undone (or says it was). */
  merges?: Merge[];
  onUndo?: (merge: Merge) => void;
}

export function AuditHistory({ customerId, version, merges, onUndo }: AuditHistoryProps) {
  const api = useApi();
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);

  useEffect(() => {
    let current = true;
    api.listAudit({ customer_id: customerId, limit: 20 }).then(
      (page) => {
        if (!current) return;
        setEvents(page.items);
        setNext(page.next_cursor);
        setError(null);
      },
      (caught: unknown) => current && setError(messageOf(caught)),
    );
    return () => {
      current = false;
    };
  }, [api, customerId, version]);

  const loadMore = async () => {
    if (!next) return;
    setLoadingMore(true);
    try {
      const page = await api.listAudit({ customer_id: customerId, limit: 20, cursor: next });
      setEvents([...(events ?? []), ...page.items]);
      setNext(page.next_cursor);
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setLoadingMore(false);
    }
  };

  return (
    <section class="card stack" aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      {error ? <ErrorNotice>Could not load the history: {error}</ErrorNotice> : null}
      {!events ? (
        error ? null : (
          <Loading label="Loading history…" />
        )
      ) : events.length === 0 ? (
        <EmptyState title="Nothing recorded yet." />
      ) : (
        <ol class="timeline">
          {events.map((event) => (
            <li key={event.id} class={`timeline__item timeline__item--${event.action.replace(/\W/g, '-')}`}>
              <div class="timeline__head">
                <strong>{actionLabel(event.action)}</strong>
                <span class="muted small">
                  by {event.actor}
                  {event.source === 'platform' ? ', vouched for by the platform' : ''} ·{' '}
                  <time dateTime={event.at}>{formatTime(event.at)}</time>
                </span>
              </div>
              <ChangeLines lines={changes(event)} />
              {event.action === 'customer.merged' ? (
                <MergeState
                  merge={merges?.find((m) => m.merge_id === asObject(event.after).merge_id)}
                  onUndo={onUndo}
                />
              ) : null}
              <details class="disclosure disclosure--small">
                <summary>Before and after</summary>
                <JsonBlock value={{ before: event.before, after: event.after }} />
              </details>
            </li>
          ))}
        </ol>
      )}
      {next ? (
        <button type="button" class="button" onClick={loadMore} disabled={loadingMore}>
          {loadingMore ? 'Loading…' : 'Older events'}
        </button>
      ) : null}
    </section>
  );
}

function MergeState({ merge, onUndo }: { merge: Merge | undefined; onUndo: ((merge: Merge) => void) | undefined }) {
  if (!merge) return null;
  if (merge.undone_at) {
    return (
      <p class="small muted">
        Undone <time dateTime={merge.undone_at}>{formatTime(merge.undone_at)}</time>
      </p>
    );
  }
  if (!onUndo) return null;
  return (
    <div>
      <button type="button" class="button button--small" onClick={() => onUndo(merge)}>
        Undo merge
      </button>
    </div>
  );
}
