import { conflictOf, messageOf } from '../api/api-error.js';
import { Link } from '../lib/router.js';

/** An error, and for a 409 that says whose identity is in the way, a link to go there. */
export function ErrorWithConflict({ error, currentCustomerId }: { error: unknown; currentCustomerId: string }) {
  const conflict = conflictOf(error);
  return (
    <p class="notice notice--error" role="alert">
      {messageOf(error)}
      {conflict ? (
        conflict.customer_id === currentCustomerId ? (
          ' (on this customer).'
        ) : (
          <>
            {' '}
            <Link href={`/customers/${conflict.customer_id}`}>Open the customer it is linked to</Link>
          </>
        )
      ) : null}
    </p>
  );
}
