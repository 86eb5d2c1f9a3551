import { useEffect, useId, useRef, useState } from 'preact/hooks';

interface SecretRevealProps {
  /** What the secret is, as the field's label: "API key", "Signing secret". */
  label: string;
  value: string;
  /** Why it is shown only now. */
  warning: string;
}

/**
 * A secret the server shows once (a new API key, a webhook's signing secret): selected and
 * focused so the operator can copy it at once, with a copy button, and a plain warning that it
 * will not be shown again. If the clipboard is refused, the text stays selected for Ctrl+C.
 */
export function SecretReveal({ label, value, warning }: SecretRevealProps) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);

  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, [value]);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied('yes');
    } catch {
      input.current?.select();
      setCopied('failed');
    }
  };

  return (
    <div class="secret">
      <p class="notice notice--warning" id={`${id}-warning`}>
        {warning}
      </p>
      <div class="field">
        <label for={id}>{label}</label>
        <div class="secret__row">
          <input
            id={id}
            ref={input}
            class="secret__value"
            type="text"
            readOnly
            value={value}
            spellcheck={false}
            autoComplete="off"
            aria-describedby={`${id}-warning`}
            data-secret
          />
          <button type="button" class="button" onClick={copy}>
            {copied === 'yes' ? 'Copied ✓' : 'Copy'}
          </button>
        </div>
      </div>
      <p class="small muted" aria-live="polite">
        {copied === 'yes'
          ? `${label} copied to the clipboard.`
          : copied === 'failed'
            ? 'The browser would not copy it: it is selected, press Ctrl+C (⌘C).'
            : ''}
      </p>
    </div>
  );
}
