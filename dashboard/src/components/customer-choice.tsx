import { useId } from 'preact/hooks';
import type { LinkDecision } from '../api/client.js';
import type { Customer } from '../api/types.js';
import { CustomerPicker } from './customer-picker.js';
import { TextField } from './field.js';

/** Whom a link request's account goes to, as the operator is choosing it. */
export interface CustomerChoiceValue {
  mode: 'existing' | 'new';
  customer: Customer | null;
  email: string;
  name: string;
}

export const EMPTY_CHOICE: CustomerChoiceValue = { mode: 'existing', customer: null, email: '', name: '' };

/** The API's body for the choice; null while it is incomplete (nobody picked, no email). */
export function toDecision(value: CustomerChoiceValue): LinkDecision | null {
  if (value.mode === 'existing') return value.customer ? { customer_id: value.customer.id } : null;
  const email = value.email.trim();
  return email ? { customer: { email, name: value.name.trim() || null } } : null;
}

/** What the result is called on screen: the picked customer, or the new one by its name or email. */
export function choiceLabel(value: CustomerChoiceValue): string {
  if (value.mode === 'existing') return value.customer?.name?.trim() || value.customer?.email || '';
  return value.name.trim() || value.email.trim();
}

interface CustomerChoiceProps {
  value: CustomerChoiceValue;
  onChange: (value: CustomerChoiceValue) => void;
  /** The API's complaint about the new customer's email (taken, invalid). */
  emailError?: string | undefined;
  nameError?: string | undefined;
}

/** An existing customer (searched) or a new one (email and name), as two radio buttons. */
export function CustomerChoice({ value, onChange, emailError, nameError }: CustomerChoiceProps) {
  const id = useId();
  const set = (changes: Partial<CustomerChoiceValue>) => onChange({ ...value, ...changes });
  return (
    <fieldset class="fieldset">
      <legend>Link the account to</legend>
      <div class="choice">
        <label class="check">
          <input
            type="radio"
            name={`${id}-mode`}
            checked={value.mode === 'existing'}
            onChange={() => set({ mode: 'existing' })}
          />
          An existing customer
        </label>
        <label class="check">
          <input
            type="radio"
            name={`${id}-mode`}
            checked={value.mode === 'new'}
            onChange={() => set({ mode: 'new' })}
          />
          A new customer
        </label>
      </div>
      {value.mode === 'existing' ? (
        <CustomerPicker label="Customer" selected={value.customer} onSelect={(customer) => set({ customer })} />
      ) : (
        <div class="form__row">
          <TextField
            label="Email"
            type="email"
            value={value.email}
            onInput={(email) => set({ email })}
            required
            maxLength={320}
            inputMode="email"
            error={emailError}
          />
          <TextField
            label="Name"
            value={value.name}
            onInput={(name) => set({ name })}
            maxLength={255}
            spellcheck
            error={nameError}
          />
        </div>
      )}
    </fieldset>
  );
}
