import { useEffect, useState } from 'preact/hooks';
import type { LinkRequest, LinkRequestStatus } from '../api/types.js';
import { useApi } from './api-context.js';

export const LINK_REQUEST_STATUSES: { value: LinkRequestStatus; label: string }[] = [
  { value: 'pending', label: 'Pending' },
  { value: 'approved', label: 'Approved' },
  { value: 'rejected', label: 'Rejected' },
  { value: 'expired', label: 'Expired' },
];

export const statusLabel = (status: LinkRequestStatus) =>
  LINK_REQUEST_STATUSES.find((item) => item.value === status)?.label ?? status;

/** `telegram 12345`: how the account is named on screen and in buttons' accessible names. */
export const accountLabel = (request: Pick<LinkRequest, 'channel' | 'external_id'>) =>
  `${request.channel} ${request.external_id}`;

/** The code as the person reads it out: `K7MQ 2XPA`. */
export const normalizeLinkCode = (input: string) => input.replace(/[\s-]+/g, '').toUpperCase();
export const LINK_CODE = /^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{8}$/;

/** How many pending requests the top bar counts at most; beyond, it says "100+". */
export const PENDING_COUNTED = 100;

const CHANGED = 'dashboard:link-requests-changed';

/** Tells the top bar's count that a request was decided here, so it need not wait for its timer. */
export function announceLinkRequestsChanged(): void {
  window.dispatchEvent(new Event(CHANGED));
}

/**
 * The number of pending requests (`null` until known), refreshed on a timer, whenever `path`
 * changes and when a decision is announced; `more` when there are more than it counted.
 */
export function usePendingCount(path: string, everyMs = 30_000): { count: number | null; more: boolean } {
  const api = useApi();
  const [state, setState] = useState<{ count: number | null; more: boolean }>({ count: null, more: false });
  useEffect(() => {
    let current = true;
    const load = () =>
      api.listLinkRequests({ status: 'pending', limit: PENDING_COUNTED }).then(
        (page) => current && setState({ count: page.items.length, more: page.next_cursor !== null }),
        // The count is a hint: a failed refresh keeps the last one rather than alarm the operator.
        () => undefined,
      );
    void load();
    const timer = setInterval(load, everyMs);
    window.addEventListener(CHANGED, load);
    return () => {
      current = false;
      clearInterval(timer);
      window.removeEventListener(CHANGED, load);
    };
  }, [api, path, everyMs]);
  return state;
}
