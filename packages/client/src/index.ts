/**
 * A typed client of the identity service for the agent runtime (and any other Node ≥ 20 program),
 * published as the package `@identity-service/client`. It needs nothing but the global `fetch` (and
 * node:crypto, for verifyWebhook).
 *
 *   const ids = createIdentityClient({ baseUrl: 'https://ids.example.com', apiKey: process.env.IDS_KEY! });
 *   const who = await ids.lookupIdentity({ channel: 'telegram', external_id: '12345' }); // null when unknown
 */
import {
  errorFor,
  IdentityServiceError,
  InvalidClaimError,
  InvalidLinkCodeError,
  NotFoundError,
  TransportError,
} from './errors.js';
import type {
  ClaimCode,
  ClaimInput,
  Customer,
  CustomerExport,
  CustomerInput,
  CustomerPatch,
  CustomerQuery,
  Erasure,
  Identity,
  IdentityInput,
  IdentityKey,
  IdentityPatch,
  IssuedLinkRequest,
  LinkRequest,
  LinkRequestApproval,
  LinkRequestDecision,
  LinkRequestInput,
  LinkRequestQuery,
  LinkWithCodeInput,
  LookupResult,
  Merge,
  MergePreview,
  MergeResult,
  MoveInput,
  Page,
  ServiceInfo,
  SuppressedValue,
  Suppression,
  UndoResult,
} from './types.js';
import type {
  Webhook,
  WebhookDeliveryAttempt,
  WebhookEventType,
  WebhookInput,
  WebhookPatch,
  WebhookWithSecret,
} from './webhook-types.js';

export {
  AuthError,
  ConflictError,
  GoneError,
  IdentityServiceError,
  InvalidClaimError,
  InvalidLinkCodeError,
  NotFoundError,
  RateLimitedError,
  TransportError,
  ValidationError,
} from './errors.js';
export type * from './types.js';
export { type VerifyOptions, verifyWebhook, type WebhookHeaders, WebhookVerificationError } from './verify-webhook.js';
export type * from './webhook-types.js';
export { WEBHOOK_EVENT_TYPES } from './webhook-types.js';

export interface IdentityClientOptions {
  /** Where the service listens, e.g. `https://ids.example.com` (with or without a trailing slash). */
  baseUrl: string;
  /** Sent as `X-Api-Key`: a `runtime` key for lookups and claims, an `admin` key to manage. */
  apiKey: string;
  /** Another fetch (a mock, or one with a custom agent); the global one by default. */
  fetch?: typeof fetch;
  /** Per request, after which a TransportError is thrown; 10 000 by default. */
  timeoutMs?: number;
}

type Query = Record<string, string | number | undefined>;

const segment = (value: string) => encodeURIComponent(value);
const ROUTE_NOT_FOUND = 'Not Found';

export function createIdentityClient(options: IdentityClientOptions) {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;

  async function request<T>(method: string, path: string, input: { query?: Query; body?: unknown } = {}): Promise<T> {
    const url = new URL(`${baseUrl}/v1${path}`);
    for (const [name, value] of Object.entries(input.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { 'x-api-key': options.apiKey, accept: 'application/json' };
    if (input.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await doFetch(url, {
        method,
        headers,
        body: input.body === undefined ? null : JSON.stringify(input.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      const message = timedOut
        ? `No answer from the identity service within ${timeoutMs} ms`
        : 'Could not reach the identity service';
      throw new TransportError(0, message, message, { cause: error });
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    // A page (a proxy's, the dashboard's) is no answer of the API, whatever its status: most
    // likely a wrong baseUrl. Only a failure may come without a body.
    if (body === undefined && (response.ok || text !== '')) {
      throw new IdentityServiceError(
        response.status,
        text,
        `The answer (HTTP ${response.status}) was not JSON; is baseUrl the identity service?`,
      );
    }
    if (response.ok) return body as T;
    const detail = typeof body === 'object' && body !== null && 'detail' in body ? body.detail : text;
    throw errorFor(response.status, detail, response.headers, body);
  }

  function mergeCustomers(customerId: string, input: { sourceCustomerId: string; dryRun: true }): Promise<MergePreview>;
  function mergeCustomers(
    customerId: string,
    input: { sourceCustomerId: string; dryRun?: false | undefined },
  ): Promise<MergeResult>;
  function mergeCustomers(
    customerId: string,
    input: { sourceCustomerId: string; dryRun?: boolean | undefined },
  ): Promise<MergePreview | MergeResult>;
  function mergeCustomers(customerId: string, input: { sourceCustomerId: string; dryRun?: boolean | undefined }) {
    return request<MergePreview | MergeResult>('POST', `${customerPath(customerId)}/merge`, {
      body: { source_customer_id: input.sourceCustomerId, dry_run: input.dryRun ?? false },
    });
  }

  /** A code's 400 as its own error class; every other failure as usual. */
  async function withCode<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      if (error instanceof IdentityServiceError && error.status === 400) {
        throw new InvalidLinkCodeError(400, error.detail);
      }
      throw error;
    }
  }

  const customerPath = (customerId: string) => `/customers/${segment(customerId)}`;
  const linkRequestPath = (linkRequestId: string) => `/link-requests/${segment(linkRequestId)}`;
  const webhookPath = (webhookId: string) => `/webhooks/${segment(webhookId)}`;
  const identityPath = (customerId: string, identityId: string) =>
    `${customerPath(customerId)}/identities/${segment(identityId)}`;

  return {
    /**
     * Who owns this channel identity? `null` when nobody does (the service's 404), so that the hot
     * path needs no try/catch. Other failures throw, and so does a 404 of an unknown route.
     */
    async lookupIdentity(key: IdentityKey): Promise<LookupResult | null> {
      try {
        return await request<LookupResult>('GET', '/customers/lookup/identity', {
          query: { channel: key.channel, external_id: key.external_id, instance_id: key.instance_id },
        });
      } catch (error) {
        // The service's own 404 says "Identity not found"; a bare "Not Found" means there is no such
        // route (a wrong baseUrl), which must not pass for "nobody".
        if (error instanceof NotFoundError && error.detail !== ROUTE_NOT_FOUND) return null;
        throw error;
      }
    },

    /**
     * Redeems the code a person sent (`/claim CODE`) for the sender's identity; on success it is
     * verified with role_override "owner". Any wrong, expired, spent or foreign code throws
     * InvalidClaimError; too many attempts throw RateLimitedError.
     */
    async claim(input: ClaimInput): Promise<Identity> {
      try {
        return await request<Identity>('POST', '/customers/identities/claim', { body: input });
      } catch (error) {
        if (error instanceof IdentityServiceError && error.status === 400) {
          throw new InvalidClaimError(400, error.detail);
        }
        throw error;
      }
    },

    /**
     * A stranger asks to be known (runtime or admin key): a pending request and its code, shown
     * only here. Asked again while pending, the same request with a fresh code (the old one is
     * void). ConflictError (with `conflict`) when the account is linked already; RateLimitedError
     * when too many requests are pending.
     */
    createLinkRequest: (input: LinkRequestInput) =>
      request<IssuedLinkRequest>('POST', '/link-requests', { body: input }),

    /**
     * A person sent `/link CODE` from a verified account (the sender): the request's account is
     * linked to the sender's customer, verified. Every failure throws InvalidLinkCodeError; too
     * many failures from the sender throw RateLimitedError.
     */
    linkWithCode: (input: LinkWithCodeInput) =>
      withCode(request<Identity>('POST', '/customers/identities/link', { body: input })),

    listLinkRequests: (query: LinkRequestQuery = {}) =>
      request<Page<LinkRequest>>('GET', '/link-requests', { query: { ...query } }),
    getLinkRequest: (linkRequestId: string) => request<LinkRequest>('GET', linkRequestPath(linkRequestId)),
    /** The operator types the code the person read out: linked, verified. InvalidLinkCodeError for any bad code. */
    redeemLinkRequest: (code: string, decision: LinkRequestDecision) =>
      withCode(request<LinkRequestApproval>('POST', '/link-requests/redeem', { body: { code, ...decision } })),
    /** Without the code: linked unverified. ConflictError unless the request is pending. */
    approveLinkRequest: (linkRequestId: string, decision: LinkRequestDecision) =>
      request<LinkRequestApproval>('POST', `${linkRequestPath(linkRequestId)}/approve`, { body: decision }),
    rejectLinkRequest: (linkRequestId: string) =>
      request<LinkRequest>('POST', `${linkRequestPath(linkRequestId)}/reject`),

    listCustomers: (query: CustomerQuery = {}) => request<Page<Customer>>('GET', '/customers', { query: { ...query } }),
    getCustomer: (customerId: string) => request<Customer>('GET', customerPath(customerId)),
    createCustomer: (input: CustomerInput) => request<Customer>('POST', '/customers', { body: input }),
    updateCustomer: (customerId: string, patch: CustomerPatch) =>
      request<Customer>('PATCH', customerPath(customerId), { body: patch }),
    /** Its identities and their claim codes go with it. */
    deleteCustomer: (customerId: string) => request<void>('DELETE', customerPath(customerId)),

    /** Oldest first; throws NotFoundError for an unknown customer. */
    listIdentities: (customerId: string, filter: { channel?: string } = {}) =>
      request<Identity[]>('GET', `${customerPath(customerId)}/identities`, { query: { channel: filter.channel } }),
    createIdentity: (customerId: string, input: IdentityInput) =>
      request<Identity>('POST', `${customerPath(customerId)}/identities`, { body: input }),
    updateIdentity: (customerId: string, identityId: string, patch: IdentityPatch) =>
      request<Identity>('PATCH', identityPath(customerId, identityId), { body: patch }),
    deleteIdentity: (customerId: string, identityId: string) =>
      request<void>('DELETE', identityPath(customerId, identityId)),
    /** A one-time code for an unverified identity (ConflictError when it is verified already). */
    generateClaimCode: (customerId: string, identityId: string) =>
      request<ClaimCode>('POST', `${identityPath(customerId, identityId)}/claim-code`),

    /** Another external id of the same account (normalized like external_id); ConflictError says who has it. */
    addAlias: (customerId: string, identityId: string, externalId: string) =>
      request<Identity>('POST', `${identityPath(customerId, identityId)}/aliases`, {
        body: { external_id: externalId },
      }),
    removeAlias: (customerId: string, identityId: string, externalId: string) =>
      request<void>('DELETE', `${identityPath(customerId, identityId)}/aliases/${segment(externalId)}`),
    /** The identity (same id) goes to another customer; unverified on arrival unless keep_verification. */
    move: (customerId: string, identityId: string, input: MoveInput) =>
      request<Identity>('POST', `${identityPath(customerId, identityId)}/move`, { body: input }),

    /**
     * Merges the source customer into the target (`customerId`); with `dryRun: true`, only the
     * preview, nothing written. The source is gone afterwards (GoneError with mergedInto).
     */
    merge: mergeCustomers,
    /** Brings the source back exactly, with its identities still on the target. */
    undoMerge: (mergeId: string) => request<UndoResult>('POST', `/merges/${segment(mergeId)}/undo`),
    /** Newest first; with a customer, the merges it took part in on either side. */
    listMerges: (filter: { customerId?: string; limit?: number } = {}) =>
      request<Merge[]>('GET', '/merges', { query: { customer_id: filter.customerId, limit: filter.limit } }),

    /** The claim-code lifetime, the Telegram bot for deep links, and which chat webhooks are on. */
    serviceInfo: () => request<ServiceInfo>('GET', '/service-info'),

    /** Subscribes a URL to events; the result's `secret` is shown this once (admin key). */
    createWebhook: (input: WebhookInput) => request<WebhookWithSecret>('POST', '/webhooks', { body: input }),
    listWebhooks: () => request<Webhook[]>('GET', '/webhooks'),
    getWebhook: (webhookId: string) => request<Webhook>('GET', webhookPath(webhookId)),
    updateWebhook: (webhookId: string, patch: WebhookPatch) =>
      request<Webhook>('PATCH', webhookPath(webhookId), { body: patch }),
    deleteWebhook: (webhookId: string) => request<void>('DELETE', webhookPath(webhookId)),
    /** A new secret, shown this once; the old one signs nothing more. */
    rotateWebhookSecret: (webhookId: string) =>
      request<WebhookWithSecret>('POST', `${webhookPath(webhookId)}/rotate-secret`),
    /** Recent attempts, newest first. */
    listWebhookDeliveries: (webhookId: string, query: { limit?: number; event_id?: string } = {}) =>
      request<WebhookDeliveryAttempt[]>('GET', `${webhookPath(webhookId)}/deliveries`, { query: { ...query } }),
    /** Sends one event to this subscription again (same id and body). */
    retryWebhookDelivery: (webhookId: string, eventId: string) =>
      request<{ event_id: string; type: WebhookEventType; status: 'pending' }>(
        'POST',
        `${webhookPath(webhookId)}/deliveries/${segment(eventId)}/retry`,
      ),

    /** Everything held about the person, as one document (an access request's answer). */
    exportCustomer: (customerId: string) => request<CustomerExport>('GET', `${customerPath(customerId)}/export`),
    /** Forgets the person for good; with `suppress`, their email and accounts cannot come back until lifted. */
    eraseCustomer: (customerId: string, options: { suppress?: boolean; reason?: string } = {}) =>
      request<Erasure>('POST', `${customerPath(customerId)}/erase`, { body: { suppress: false, ...options } }),
    /** Values of erased people kept from coming back (never the values themselves). */
    listSuppressions: () => request<Suppression[]>('GET', '/suppressions'),
    /** Lets one value come back: an email, or a channel and an external id. */
    liftSuppression: (value: SuppressedValue) => request<void>('POST', '/suppressions/lift', { body: value }),
  };
}

export type IdentityClient = ReturnType<typeof createIdentityClient>;
