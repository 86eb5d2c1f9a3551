import { useId } from 'preact/hooks';
import { parseJsonObject } from '../lib/json.js';

interface JsonEditorProps {
  label: string;
  value: string;
  onInput: (value: string) => void;
  /** An error from the server for this field (a 422 on metadata). */
  error?: string | undefined;
}

/**
 * A textarea for a JSON object that says at once when the text is not one; the forms that use it
 * refuse to send until it is (see parseJsonObject).
 */
export function JsonEditor(props: JsonEditorProps) {
  const id = useId();
  const parsed = parseJsonObject(props.value);
  const error = parsed.ok ? props.error : parsed.error;
  const rows = Math.min(12, Math.max(3, props.value.split('\n').length + 1));
  return (
    <div class={`field${error ? ' field--invalid' : ''}`}>
      <label for={id}>
        {props.label}
        <span class="field__optional"> (JSON object)</span>
      </label>
      <textarea
        id={id}
        class="json-editor"
        rows={rows}
        value={props.value}
        spellcheck={false}
        onInput={(event) => props.onInput(event.currentTarget.value)}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      />
      {error ? (
        <p id={`${id}-error`} class="field__error" role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}
