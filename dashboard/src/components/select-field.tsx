import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';

interface SelectFieldProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  children: ComponentChildren;
  hint?: string;
  error?: string | undefined;
}

/** A labelled native <select>, its error tied to it as TextField's are. */
export function SelectField(props: SelectFieldProps) {
  const id = useId();
  const describedBy =
    [props.hint ? `${id}-hint` : '', props.error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${props.error ? ' field--invalid' : ''}`}>
      <label for={id}>{props.label}</label>
      <select
        id={id}
        value={props.value}
        onChange={(event) => props.onChange(event.currentTarget.value)}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={describedBy}
      >
        {props.children}
      </select>
      {props.hint ? (
        <p id={`${id}-hint`} class="field__hint">
          {props.hint}
        </p>
      ) : null}
      {props.error ? (
        <p id={`${id}-error`} class="field__error" role="alert">
          {props.error}
        </p>
      ) : null}
    </div>
  );
}
