import { ERASED, type Line } from '../lib/audit.js';
import { prettyJson } from '../lib/json.js';

/** In place of a value an erasure took away: a word, not the quoted string "[erased]". */
export function ErasedMark() {
  return (
    <span class="badge badge--erased" title="This value was erased">
      erased
    </span>
  );
}

/** The "what changed" lines of an audit entry, erased values marked. */
export function ChangeLines({ lines }: { lines: Line[] }) {
  return (
    <>
      {lines.map((line, i) => (
        // Lines are few and never reorder: their position is their identity.
        <p key={i} class="timeline__change">
          {line.map((piece, j) => (typeof piece === 'string' ? piece : <ErasedMark key={j} />))}
        </p>
      ))}
    </>
  );
}

const ERASED_JSON = JSON.stringify(ERASED);

/** A JSON value in a code block, each erased value shown as the mark. */
export function JsonBlock({ value }: { value: unknown }) {
  const parts = prettyJson(value).split(ERASED_JSON);
  return (
    <pre class="code-block">
      {parts.map((part, i) => (
        <span key={i}>
          {part}
          {i < parts.length - 1 ? <ErasedMark /> : null}
        </span>
      ))}
    </pre>
  );
}
