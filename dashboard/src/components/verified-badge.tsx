import { formatTime } from '../lib/format.js';

export function VerifiedBadge({ verified, at }: { verified: boolean; at: string | null }) {
  if (!verified) return <span class="badge badge--muted">Unverified</span>;
  return (
    <span class="badge badge--success" title={at ?? undefined}>
      <span aria-hidden="true">✓ </span>Verified
      {at ? <span class="badge__time"> {formatTime(at)}</span> : null}
    </span>
  );
}
