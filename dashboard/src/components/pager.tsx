import { useState } from 'preact/hooks';

/** Where a cursor-paged list stands: the cursor of the page shown and those of the pages before it. */
interface Paging {
  key: string;
  cursor: string | null;
  before: (string | null)[];
}

export interface CursorPaging {
  /** The cursor of the page to show (null: the first). */
  cursor: string | null;
  /** 1 for the first page. */
  number: number;
  next(nextCursor: string | null | undefined): void;
  previous(): void;
}

/**
 * Cursor paging that starts again at the first page whenever `key` (the list's filters or query)
 * changes. `onMove` runs after each move, e.g. to put the focus back on the page's heading.
 */
export function useCursorPaging(key: string, onMove: () => void): CursorPaging {
  const [paging, setPaging] = useState<Paging>({ key, cursor: null, before: [] });
  const { cursor, before } = paging.key === key ? paging : { cursor: null, before: [] };
  return {
    cursor,
    number: before.length + 1,
    next(nextCursor) {
      if (!nextCursor) return;
      setPaging({ key, cursor: nextCursor, before: [...before, cursor] });
      onMove();
    },
    previous() {
      setPaging({ key, cursor: before.at(-1) ?? null, before: before.slice(0, -1) });
      onMove();
    },
  };
}

/** The buttons under a paged list, shown only when there is more than one page. */
export function Pager({
  paging,
  nextCursor,
  previousLabel,
  nextLabel,
}: {
  paging: CursorPaging;
  nextCursor: string | null | undefined;
  previousLabel: string;
  nextLabel: string;
}) {
  if (paging.number === 1 && !nextCursor) return null;
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" class="button" onClick={paging.previous} disabled={paging.number === 1}>
        {previousLabel}
      </button>
      <span class="muted">Page {paging.number}</span>
      <button type="button" class="button" onClick={() => paging.next(nextCursor)} disabled={!nextCursor}>
        {nextLabel}
      </button>
    </nav>
  );
}
