import type { ComponentChildren, Ref } from 'preact';
import { useId } from 'preact/hooks';

interface FieldProps {
  label: string;
  value: string;
  onInput: (value: string) => void;
  name?: string;
  error?: string | undefined;
  hint?: ComponentChildren;
  type?: 'text' | 'email' | 'password' | 'search';
  required?: boolean;
  autoComplete?: string;
  placeholder?: string;
  list?: string;
  maxLength?: number;
  inputMode?: 'text' | 'numeric' | 'email';
  inputRef?: Ref<HTMLInputElement>;
  spellcheck?: boolean;
  /** Focus it when its dialog opens (the native <dialog> honours the attribute). */
  autofocus?: boolean;
}

/** A labelled input whose error is announced and tied to it (aria-describedby). */
export function TextField(props: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [props.hint ? hintId : '', props.error ? errorId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${props.error ? ' field--invalid' : ''}`}>
      <label for={id}>
        {props.label}
        {props.required ? null : <span class="field__optional"> (optional)</span>}
      </label>
      <input
        id={id}
        ref={props.inputRef}
        name={props.name}
        type={props.type ?? 'text'}
        value={props.value}
        onInput={(event) => props.onInput(event.currentTarget.value)}
        required={props.required}
        autoComplete={props.autoComplete ?? 'off'}
        placeholder={props.placeholder}
        list={props.list}
        maxLength={props.maxLength}
        inputMode={props.inputMode}
        spellcheck={props.spellcheck ?? false}
        autofocus={props.autofocus}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={describedBy}
      />
      {props.hint ? (
        <p id={hintId} class="field__hint">
          {props.hint}
        </p>
      ) : null}
      {props.error ? (
        <p id={errorId} class="field__error" role="alert">
          {props.error}
        </p>
      ) : null}
    </div>
  );
}
