import { ApiError, NetworkError } from './api-error.js';
import type {
  ApiKey,
  AuditEvent,
  ClaimCode,
  Customer,
  Delivery,
  Erasure,
  Identity,
  JsonObject,
  LinkRequest,
  LinkRequestApproval,
  LinkRequestStatus,
  Merge,
  MergePreview,
  MergeResult,
  NewApiKey,
  Page,
  Scope,
  ServiceInfo,
  SuppressedValue,
  Suppression,
  UndoResult,
  ValidationItem,
  Webhook,
  WebhookWithSecret,
} from './types.js';

type Query = Record<string, string | number | undefined | null>;

export interface CustomerInput {
  email: string;
  name: string | null;
  metadata: JsonObject;
}

export interface IdentityInput {
  channel: string;
  external_id: string;
  instance_id?: string | null;
  display_name?: string | null;
  role_override?: string | null;
  metadata?: JsonObject;
}

export interface IdentityChanges {
  display_name?: string | null;
  role_override?: string | null;
  metadata?: JsonObject;
  verified?: boolean;
}

export interface AuditQuery {
  customer_id?: string | null;
  identity_id?: string | null;
  /** One action, or a family: `identity.*`. */
  action?: string | null;
  actor?: string | null;
  cursor?: string | null;
  limit?: number;
}

export interface WebhookInput {
  url: string;
  events: string[];
  description?: string | null;
}

export interface WebhookChanges extends Partial<WebhookInput> {
  enabled?: boolean;
}

export interface LookupQuery {
  channel: string;
  external_id: string;
  instance_id?: string;
}

export interface LinkRequestQuery {
  status?: LinkRequestStatus | null;
  channel?: string | null;
  cursor?: string | null;
  limit?: number;
}

/** Who a link request's account goes to: an existing customer, or a new one made for it. */
export type LinkDecision = { customer_id: string } | { customer: { email: string; name: string | null } };

/** The raw answer of the reverse lookup, whatever its status: the dashboard shows it as the runtime gets it. */
export interface RawResponse {
  status: number;
  body: unknown;
}

function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function toError(response: Response, body: unknown): ApiError {
  const detail =
    body && typeof body === 'object' && 'detail' in body
      ? (body as { detail: string | ValidationItem[] }).detail
      : `${response.status} ${response.statusText}`;
  const retryAfter = Number(response.headers.get('retry-after'));
  return new ApiError(response.status, detail, body, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null);
}

/** The file name the server gives a download, kept to safe characters; null when it gives none. */
function attachmentName(response: Response): string | null {
  const header = response.headers.get('content-disposition') ?? '';
  const name = /filename="?([^";]+)"?/i.exec(header)?.[1];
  const safe = name?.replace(/[^\w.-]/g, '_');
  return safe || null;
}

/**
 * Our public API, with the operator's key in X-Api-Key (never in a URL). `onUnauthorized` runs
 * when the key stops working (revoked while signed in), so the app can ask for a new one.
 */
export function createApi(apiKey: string, onUnauthorized: () => void = () => undefined) {
  async function send(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { 'x-api-key': apiKey, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch {
      throw new NetworkError();
    }
  }

  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await send(method, path, body);
    const parsed = await readBody(response);
    if (!response.ok) {
      if (response.status === 401) onUnauthorized();
      throw toError(response, parsed);
    }
    return parsed as T;
  }

  const webhookPath = (id: string) => `/v1/webhooks/${encodeURIComponent(id)}`;
  const linkRequestPath = (id: string) => `/v1/link-requests/${encodeURIComponent(id)}`;
  const customerPath = (id: string) => `/v1/customers/${encodeURIComponent(id)}`;
  const identityPath = (customerId: string, identityId: string) =>
    `${customerPath(customerId)}/identities/${encodeURIComponent(identityId)}`;

  return {
    /** Checks the key: admin routes are what the dashboard needs, so it asks one of them. */
    checkKey: () => request<Page<AuditEvent>>('GET', withQuery('/v1/audit', { limit: 1 })),
    serviceInfo: () => request<ServiceInfo>('GET', '/v1/service-info'),

    listCustomers: (query: { q?: string; cursor?: string | null; limit?: number }) =>
      request<Page<Customer>>('GET', withQuery('/v1/customers', query)),
    getCustomer: (id: string) => request<Customer>('GET', customerPath(id)),
    createCustomer: (input: CustomerInput) => request<Customer>('POST', '/v1/customers', input),
    updateCustomer: (id: string, input: Partial<CustomerInput>) => request<Customer>('PATCH', customerPath(id), input),
    deleteCustomer: (id: string) => request<void>('DELETE', customerPath(id)),

    /**
     * The person's whole document as a file to save. Fetched with the key in its header, like every
     * call: a plain link to the route could not carry it, and a key in a URL would end up in logs.
     */
    async exportCustomer(customerId: string): Promise<{ blob: Blob; filename: string }> {
      const response = await send('GET', `${customerPath(customerId)}/export`);
      if (!response.ok) {
        const body = await readBody(response);
        if (response.status === 401) onUnauthorized();
        throw toError(response, body);
      }
      return { blob: await response.blob(), filename: attachmentName(response) ?? `customer-${customerId}.json` };
    },
    /** Forgets the person for good (CONTRACT.md, "Forgetting a person"). */
    eraseCustomer: (customerId: string, input: { suppress: boolean; reason?: string }) =>
      request<Erasure>('POST', `${customerPath(customerId)}/erase`, input),
    listSuppressions: () => request<Suppression[]>('GET', '/v1/suppressions'),
    /** The value itself, as the person gives it: the list holds only hashes. */
    liftSuppression: (value: SuppressedValue) => request<void>('POST', '/v1/suppressions/lift', value),

    listIdentities: (customerId: string) => request<Identity[]>('GET', `${customerPath(customerId)}/identities`),
    createIdentity: (customerId: string, input: IdentityInput) =>
      request<Identity>('POST', `${customerPath(customerId)}/identities`, input),
    updateIdentity: (customerId: string, identityId: string, changes: IdentityChanges) =>
      request<Identity>('PATCH', identityPath(customerId, identityId), changes),
    deleteIdentity: (customerId: string, identityId: string) =>
      request<void>('DELETE', identityPath(customerId, identityId)),
    generateClaimCode: (customerId: string, identityId: string) =>
      request<ClaimCode>('POST', `${identityPath(customerId, identityId)}/claim-code`),

    /** Unlike the others, any status is an answer here: a 404 is what the runtime sees for a stranger. */
    async lookup(query: LookupQuery): Promise<RawResponse> {
      const response = await send('GET', withQuery('/v1/customers/lookup/identity', { ...query }));
      const body = await readBody(response);
      if (response.status === 401) onUnauthorized();
      if (response.status === 422 || response.status === 429 || response.status >= 500) throw toError(response, body);
      return { status: response.status, body };
    },

    listLinkRequests: (query: LinkRequestQuery) =>
      request<Page<LinkRequest>>('GET', withQuery('/v1/link-requests', { ...query })),
    /** Whose a code is, without spending it (a failure counts against the key like a redemption's). */
    lookupLinkCode: (code: string) => request<LinkRequest>('POST', '/v1/link-requests/lookup', { code }),
    redeemLinkCode: (code: string, decision: LinkDecision) =>
      request<LinkRequestApproval>('POST', '/v1/link-requests/redeem', { code, ...decision }),
    /** Without the code: the account is linked unverified. */
    approveLinkRequest: (id: string, decision: LinkDecision) =>
      request<LinkRequestApproval>('POST', `${linkRequestPath(id)}/approve`, decision),
    rejectLinkRequest: (id: string) => request<LinkRequest>('POST', `${linkRequestPath(id)}/reject`),

    listAudit: (query: AuditQuery) => request<Page<AuditEvent>>('GET', withQuery('/v1/audit', { ...query })),

    listApiKeys: () => request<ApiKey[]>('GET', '/v1/api-keys'),
    createApiKey: (input: { name: string; scope: Scope }) => request<NewApiKey>('POST', '/v1/api-keys', input),
    revokeApiKey: (id: string) => request<void>('DELETE', `/v1/api-keys/${encodeURIComponent(id)}`),
    /** Whether a listed key could be the one this dashboard signed in with (its shown prefix matches). */
    mayBeOwnKey: (key: ApiKey) => key.prefix.length > 0 && apiKey.startsWith(key.prefix),

    listWebhooks: () => request<Webhook[]>('GET', '/v1/webhooks'),
    getWebhook: (id: string) => request<Webhook>('GET', webhookPath(id)),
    createWebhook: (input: WebhookInput) => request<WebhookWithSecret>('POST', '/v1/webhooks', input),
    updateWebhook: (id: string, changes: WebhookChanges) => request<Webhook>('PATCH', webhookPath(id), changes),
    deleteWebhook: (id: string) => request<void>('DELETE', webhookPath(id)),
    rotateWebhookSecret: (id: string) => request<WebhookWithSecret>('POST', `${webhookPath(id)}/rotate-secret`),
    listDeliveries: (id: string) =>
      request<Delivery[]>('GET', withQuery(`${webhookPath(id)}/deliveries`, { limit: 50 })),
    /** Sends one event to this webhook again, with the same id and body. */
    resendEvent: (id: string, eventId: string) =>
      request<{ event_id: string; type: string; status: string }>(
        'POST',
        `${webhookPath(id)}/deliveries/${encodeURIComponent(eventId)}/retry`,
      ),

    addAlias: (customerId: string, identityId: string, externalId: string) =>
      request<Identity>('POST', `${identityPath(customerId, identityId)}/aliases`, { external_id: externalId }),
    removeAlias: (customerId: string, identityId: string, externalId: string) =>
      request<void>('DELETE', `${identityPath(customerId, identityId)}/aliases/${encodeURIComponent(externalId)}`),
    moveIdentity: (
      customerId: string,
      identityId: string,
      input: { customer_id: string; keep_verification: boolean },
    ) => request<Identity>('POST', `${identityPath(customerId, identityId)}/move`, input),
    previewMerge: (targetId: string, sourceId: string) =>
      request<MergePreview>('POST', `${customerPath(targetId)}/merge`, { source_customer_id: sourceId, dry_run: true }),
    merge: (targetId: string, sourceId: string) =>
      request<MergeResult>('POST', `${customerPath(targetId)}/merge`, { source_customer_id: sourceId, dry_run: false }),
    listMerges: (customerId: string) => request<Merge[]>('GET', withQuery('/v1/merges', { customer_id: customerId })),
    undoMerge: (mergeId: string) => request<UndoResult>('POST', `/v1/merges/${encodeURIComponent(mergeId)}/undo`),
  };
}

export type Api = ReturnType<typeof createApi>;
