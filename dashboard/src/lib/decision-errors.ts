import { ApiError, conflictOf, messageOf } from '../api/api-error.js';
import type { CustomerChoiceValue } from '../components/customer-choice.js';

export interface DecisionErrors {
  email?: string;
  name?: string;
  /** Anything that is not about a field; `conflict` when the account was linked meanwhile. */
  general?: string;
  conflictCustomerId?: string;
}

/** Where an approval's error belongs: the new customer's fields, or the dialog as a whole. */
export function decisionErrors(error: unknown, choice: CustomerChoiceValue): DecisionErrors {
  if (error instanceof ApiError && error.status === 422) {
    const out: DecisionErrors = {};
    for (const item of error.validation) {
      const [where, field, inner] = item.loc;
      if (where === 'body' && field === 'customer' && (inner === 'email' || inner === 'name')) out[inner] ??= item.msg;
    }
    if (out.email || out.name) return out;
  }
  const conflict = conflictOf(error);
  if (conflict) return { general: messageOf(error), conflictCustomerId: conflict.customer_id };
  // A new customer has no identities to be full of: its 409 is the email, taken.
  if (error instanceof ApiError && error.status === 409 && choice.mode === 'new') return { email: messageOf(error) };
  return { general: messageOf(error) };
}

/** What is missing before a decision can be sent: the customer to choose, or the new one's email. */
export const incompleteChoiceErrors = (choice: CustomerChoiceValue): DecisionErrors =>
  choice.mode === 'existing'
    ? { general: 'Choose the customer first.' }
    : { email: 'Give the email of the new customer.' };
