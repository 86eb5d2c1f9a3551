import type { VerifiedVia } from '../api/types.js';
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

const PROOF: Record<VerifiedVia, { label: string; explanation: string }> = {
  operator: { label: 'Operator', explanation: 'An operator marked it verified (the dashboard, the API or an import).' },
  claim_code: { label: 'Claim code', explanation: 'The person redeemed a claim code from this account.' },
  platform: { label: 'Platform', explanation: 'The chat platform itself vouched for this account.' },
  link_request: {
    label: 'Link code',
    explanation: 'An operator typed in the link code this account was given when it asked to be linked.',
  },
  linked_identity: {
    label: 'Linked from another verified account',
    explanation: 'The person linked it with a code from another account of theirs that was already verified.',
  },
};

/** How a link was proven (`verified_via`): nothing while unverified or on a server that does not say. */
export function ProofBadge({ via }: { via: VerifiedVia | null | undefined }) {
  const proof = via ? PROOF[via] : undefined;
  if (!via || !proof) return null;
  return (
    <span class={`badge badge--proof badge--proof-${via}`} title={proof.explanation} data-verified-via={via}>
      <span class="visually-hidden">Proven by </span>
      {proof.label}
    </span>
  );
}
