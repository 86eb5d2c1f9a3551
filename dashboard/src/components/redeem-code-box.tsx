import { useId, useState } from 'preact/hooks';
import { ApiError, messageOf } from '../api/api-error.js';
import type { LinkRequest, LinkRequestApproval } from '../api/types.js';
import { useApi } from '../lib/api-context.js';
import { type DecisionErrors, decisionErrors, incompleteChoiceErrors } from '../lib/decision-errors.js';
import { accountLabel, announceLinkRequestsChanged, LINK_CODE, normalizeLinkCode } from '../lib/link-requests.js';
import { Link } from '../lib/router.js';
import { CustomerChoice, type CustomerChoiceValue, choiceLabel, EMPTY_CHOICE, toDecision } from './customer-choice.js';
import { LinkRequestSummary } from './link-request-summary.js';

const NOT_FOUND =
  'No pending request has this code. Check it with the person: it may be mistyped, expired, used already, or renewed (asking again gives a new code).';

/** The code's problem in words: 400 is any failure of the code; 429 says when to try again. */
function codeError(error: unknown): string {
  if (error instanceof ApiError && error.status === 400) return NOT_FOUND;
  return messageOf(error);
}

type Step =
  | { step: 'code' }
  | { step: 'found'; code: string; request: LinkRequest }
  | { step: 'done'; result: LinkRequestApproval; customerName: string };

/**
 * The operator types the code the person read out, sees whose request it is (the lookup spends
 * nothing), chooses or makes the customer, and redeems: the account is linked, verified.
 */
export function RedeemCodeBox({ onRedeemed }: { onRedeemed: () => void }) {
  const api = useApi();
  const id = useId();
  const [state, setState] = useState<Step>({ step: 'code' });
  const [code, setCode] = useState('');
  const [codeProblem, setCodeProblem] = useState<string | null>(null);
  const [choice, setChoice] = useState<CustomerChoiceValue>(EMPTY_CHOICE);
  const [errors, setErrors] = useState<DecisionErrors>({});
  const [busy, setBusy] = useState(false);

  const restart = () => {
    setState({ step: 'code' });
    setCode('');
    setCodeProblem(null);
    setChoice(EMPTY_CHOICE);
    setErrors({});
  };

  const find = async (event: Event) => {
    event.preventDefault();
    const normalized = normalizeLinkCode(code);
    // Checked here first: a typo need not use up the key's budget of failed codes.
    if (!LINK_CODE.test(normalized)) {
      setCodeProblem('A link code is 8 letters and digits, such as K7MQ 2XPA.');
      return;
    }
    setBusy(true);
    setCodeProblem(null);
    try {
      const request = await api.lookupLinkCode(normalized);
      setState({ step: 'found', code: normalized, request });
    } catch (caught) {
      setCodeProblem(codeError(caught));
    } finally {
      setBusy(false);
    }
  };

  const redeem = async (event: Event) => {
    event.preventDefault();
    if (state.step !== 'found') return;
    const decision = toDecision(choice);
    if (!decision) {
      setErrors(incompleteChoiceErrors(choice));
      return;
    }
    setBusy(true);
    setErrors({});
    try {
      const result = await api.redeemLinkCode(state.code, decision);
      setState({ step: 'done', result, customerName: choiceLabel(choice) });
      announceLinkRequestsChanged();
      onRedeemed();
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 400) setErrors({ general: NOT_FOUND });
      else setErrors(decisionErrors(caught, choice));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card stack" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Redeem a code</h2>
      {state.step === 'code' ? (
        <form class="form" onSubmit={find} noValidate>
          <p class="muted small">
            Someone unknown asked to be linked and was given a code. Type the code they read out to see who asked.
          </p>
          <div class={`field${codeProblem ? ' field--invalid' : ''}`}>
            <label for={`${id}-code`}>Link code</label>
            <div class="search">
              <input
                id={`${id}-code`}
                class="code-input"
                value={code}
                onInput={(event) => setCode(event.currentTarget.value)}
                maxLength={32}
                autoComplete="off"
                autocapitalize="characters"
                spellcheck={false}
                placeholder="K7MQ 2XPA"
                aria-invalid={codeProblem ? 'true' : undefined}
                aria-describedby={codeProblem ? `${id}-code-error` : undefined}
              />
              <button type="submit" class="button button--primary" disabled={busy || !code.trim()}>
                {busy ? 'Looking…' : 'Find request'}
              </button>
            </div>
            {codeProblem ? (
              <p id={`${id}-code-error`} class="field__error" role="alert">
                {codeProblem}
              </p>
            ) : null}
          </div>
        </form>
      ) : state.step === 'found' ? (
        <form class="form" onSubmit={redeem} noValidate aria-label={`Link ${accountLabel(state.request)}`}>
          <p role="status">
            Code <code>{`${state.code.slice(0, 4)} ${state.code.slice(4)}`}</code> belongs to this request. Check it
            with the person before linking.
          </p>
          <LinkRequestSummary request={state.request} />
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
          <p class="muted small">The code proves the person holds the account: it is linked verified (Link code).</p>
          <div class="form__actions">
            <button type="button" class="button" onClick={restart}>
              Cancel
            </button>
            <button type="submit" class="button button--primary" disabled={busy}>
              {busy ? 'Linking…' : 'Link and verify'}
            </button>
          </div>
        </form>
      ) : (
        <div class="stack">
          <p class="notice notice--success" role="status">
            <strong>{accountLabel(state.result.identity)}</strong> is linked to <strong>{state.customerName}</strong>,
            verified by its link code.
          </p>
          <div class="form__actions">
            <button type="button" class="button" onClick={restart}>
              Redeem another code
            </button>
            <Link class="button button--primary" href={`/customers/${state.result.identity.customer_id}`}>
              Open {state.customerName}
            </Link>
          </div>
        </div>
      )}
    </section>
  );
}
