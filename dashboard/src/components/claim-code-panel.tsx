import { useEffect, useState } from 'preact/hooks';
import type { ClaimCode, Identity } from '../api/types.js';
import { formatCountdown, groupCode } from '../lib/format.js';
import { QrCode } from './qr-code.js';

export interface ActiveCode extends ClaimCode {
  /** When the code stops working, by this browser's clock. */
  expiresAt: number;
}

interface ClaimCodePanelProps {
  code: ActiveCode;
  identity: Identity | undefined;
  botUsername: string | null;
  onRegenerate: () => void;
  onClose: () => void;
  busy: boolean;
}

function useNow(intervalMs: number, active: boolean): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs, active]);
  return now;
}

/**
 * The code Matt reads to Steve: big, in two groups, with how long it has left. While it shows,
 * the page polls the identity, so a redemption turns this panel green without a reload.
 */
export function ClaimCodePanel({ code, identity, botUsername, onRegenerate, onClose, busy }: ClaimCodePanelProps) {
  const claimed = identity?.verified === true;
  const now = useNow(1000, !claimed);
  const left = code.expiresAt - now;
  const expired = left <= 0;
  const [copied, setCopied] = useState(false);
  const label = identity ? `${identity.channel} ${identity.external_id}` : 'this identity';
  const deepLink =
    identity?.channel === 'telegram' && botUsername
      ? `https://t.me/${encodeURIComponent(botUsername)}?start=claim_${code.code}`
      : null;

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(code.code);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      setCopied(false);
    }
  };

  if (claimed) {
    return (
      <section class="card claim claim--done" aria-labelledby="claim-title" aria-live="polite">
        <h2 id="claim-title">Claimed</h2>
        <p>
          <strong>{label}</strong> redeemed the code: the identity is now verified
          {identity?.role_override ? ` with the ${identity.role_override} role` : ''}.
        </p>
        <button type="button" class="button" onClick={onClose}>
          Done
        </button>
      </section>
    );
  }

  return (
    <section class={`card claim${expired ? ' claim--expired' : ''}`} aria-labelledby="claim-title">
      <div class="claim__header">
        <h2 id="claim-title">Claim code for {label}</h2>
        <button type="button" class="button button--ghost button--icon" onClick={onClose} aria-label="Close code">
          ×
        </button>
      </div>
      <div class="claim__body">
        <div class="claim__main">
          <p class="claim__code" data-code={code.code}>
            <span aria-hidden="true">{groupCode(code.code)}</span>
            <span class="visually-hidden">Code {code.code.split('').join(' ')}</span>
          </p>
          <p class="claim__countdown" role="timer" aria-live="off">
            {expired ? 'Expired' : `Expires in ${formatCountdown(left)}`}
          </p>
          <p class="claim__instructions">{code.instructions}</p>
          <div class="claim__actions">
            <button type="button" class="button" onClick={copy} disabled={expired}>
              {copied ? 'Copied ✓' : 'Copy code'}
            </button>
            <button type="button" class="button" onClick={onRegenerate} disabled={busy}>
              {expired ? 'Generate a new code' : 'New code'}
            </button>
          </div>
          <p class="visually-hidden" aria-live="polite">
            {copied ? 'Code copied to the clipboard' : ''}
          </p>
          <p class="claim__waiting muted" aria-live="polite">
            {expired ? 'This code no longer works.' : 'Waiting for the person to send it…'}
          </p>
        </div>
        {deepLink && !expired ? (
          <div class="claim__telegram">
            <QrCode text={deepLink} label={`QR code for ${deepLink}`} />
            <a href={deepLink} class="claim__link" target="_blank" rel="noopener noreferrer">
              {deepLink.replace('https://', '')}
            </a>
            <p class="muted small">Or scan this in Telegram: it opens the bot and claims with one tap.</p>
          </div>
        ) : null}
      </div>
    </section>
  );
}
