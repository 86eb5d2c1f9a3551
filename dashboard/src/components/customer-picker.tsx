import { useEffect, useId, useState } from 'preact/hooks';
import { messageOf } from '../api/api-error.js';
import type { Customer } from '../api/types.js';
import { useApi } from '../lib/api-context.js';
import { customerLabel } from '../lib/format.js';

interface CustomerPickerProps {
  label: string;
  selected: Customer | null;
  onSelect: (customer: Customer | null) => void;
  /** A customer not to offer (the one being moved from or merged). */
  excludeId?: string;
  autofocus?: boolean;
  /** Offer the newest customers before anything is typed (in a dialog); off in a filter bar. */
  browse?: boolean;
}

const RESULTS = 8;

/**
 * Finds a customer by part of the email or name (the customers list's own search), as a search
 * box and a short list of buttons; once one is chosen it shows with a "Change" button.
 */
export function CustomerPicker({
  label,
  selected,
  onSelect,
  excludeId,
  autofocus,
  browse = true,
}: CustomerPickerProps) {
  const api = useApi();
  const id = useId();
  const [text, setText] = useState('');
  const [results, setResults] = useState<Customer[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (selected) return;
    if (!browse && !text.trim()) {
      setResults(null);
      return;
    }
    let current = true;
    const timer = setTimeout(
      () => {
        api.listCustomers({ q: text.trim() || undefined, limit: RESULTS + 1 }).then(
          (page) => {
            if (!current) return;
            setResults(page.items.filter((customer) => customer.id !== excludeId).slice(0, RESULTS));
            setError(null);
          },
          (caught: unknown) => current && setError(messageOf(caught)),
        );
      },
      text ? 250 : 0,
    );
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [api, text, selected, excludeId, browse]);

  if (selected) {
    return (
      <div class="field">
        <span class="field__label" id={`${id}-label`}>
          {label}
        </span>
        <div class="picked">
          <span class="picked__who">
            <strong>{customerLabel(selected)}</strong> <span class="muted">{selected.email}</span>
          </span>
          <button
            type="button"
            class="button button--small"
            onClick={() => onSelect(null)}
            aria-label={`Change ${label.toLowerCase()}`}
          >
            Change
          </button>
        </div>
      </div>
    );
  }

  return (
    <div class="field picker">
      <label for={id}>{label}</label>
      <input
        id={id}
        type="search"
        value={text}
        placeholder="Search by email or name"
        onInput={(event) => setText(event.currentTarget.value)}
        maxLength={200}
        autoComplete="off"
        spellcheck={false}
        autofocus={autofocus}
        aria-describedby={`${id}-status`}
      />
      <p id={`${id}-status`} class="field__hint" aria-live="polite">
        {error
          ? `Could not search: ${error}`
          : results === null
            ? browse || text.trim()
              ? 'Searching…'
              : 'Type part of an email or name.'
            : results.length === 0
              ? text.trim()
                ? `No other customer matches “${text.trim()}”.`
                : 'There is no other customer.'
              : `${results.length === RESULTS ? 'The first ' : ''}${results.length} matching: choose one.`}
      </p>
      {results && results.length > 0 ? (
        <ul class="picker__results" aria-label={`Customers matching ${text.trim() || 'anything'}`}>
          {results.map((customer) => (
            <li key={customer.id}>
              <button type="button" class="picker__option" onClick={() => onSelect(customer)}>
                <strong>{customerLabel(customer)}</strong>
                <span class="muted small">{customer.email}</span>
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
