import { useState } from 'preact/hooks';
import type { LinkRequest, LinkRequestApproval } from '../api/types.js';
import { useApi } from '../lib/api-context.js';
import { type DecisionErrors, decisionErrors, incompleteChoiceErrors } from '../lib/decision-errors.js';
import { accountLabel } from '../lib/link-requests.js';
import { Link } from '../lib/router.js';
import { CustomerChoice, type CustomerChoiceValue, choiceLabel, EMPTY_CHOICE, toDecision } from './customer-choice.js';
import { LinkRequestSummary } from './link-request-summary.js';
import { Modal } from './modal.js';

interface ApproveLinkRequestDialogProps {
  request: LinkRequest;
  onApproved: (result: LinkRequestApproval, customerName: string) => void;
  onClose: () => void;
}

/** Approves a request without its code: nothing proves the person, so the link is unverified. */
export function ApproveLinkRequestDialog({ request, onApproved, onClose }: ApproveLinkRequestDialogProps) {
  const api = useApi();
  const [choice, setChoice] = useState<CustomerChoiceValue>(EMPTY_CHOICE);
  const [errors, setErrors] = useState<DecisionErrors>({});
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const decision = toDecision(choice);
    if (!decision) {
      setErrors(incompleteChoiceErrors(choice));
      return;
    }
    setBusy(true);
    setErrors({});
    try {
      onApproved(await api.approveLinkRequest(request.id, decision), choiceLabel(choice));
    } catch (caught) {
      setErrors(decisionErrors(caught, choice));
      setBusy(false);
    }
  };

  return (
    <Modal title="Approve without a code" onClose={onClose}>
      <form class="form" onSubmit={submit} noValidate>
        <LinkRequestSummary request={request} />
        <p class="notice notice--warning">
          Without the code, nothing proves that <strong>{accountLabel(request)}</strong> belongs to the person. It will
          be linked <strong>unverified</strong>: the agent runtime sees <code>verified: false</code> until it is
          verified (for example with a claim code). If the person can read you the code, use{' '}
          <strong>Redeem a code</strong> instead.
        </p>
        <CustomerChoice value={choice} onChange={setChoice} emailError={errors.email} nameError={errors.name} />
        {errors.general ? (
          <p class="notice notice--error" role="alert">
            {errors.general}
            {errors.conflictCustomerId ? (
              <>
                {' '}
                <Link href={`/customers/${errors.conflictCustomerId}`}>Open the customer it is linked to</Link>
              </>
            ) : null}
          </p>
        ) : null}
        <div class="modal__actions">
          <button type="button" class="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="button button--primary" disabled={busy}>
            {busy ? 'Linking…' : 'Link unverified'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
