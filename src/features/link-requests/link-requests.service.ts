import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/database.js';
import { classifyDbError, mapDbError } from '../../db/errors.js';
import { type Clock, isoNow, type Random } from '../../internal/clock.js';
import {
  ConflictError,
  conflict,
  DomainError,
  FieldError,
  invalidLinkCode,
  isInvalidLinkCode,
  notFound,
  RateLimitedError,
} from '../../internal/errors.js';
import { addSeconds } from '../../internal/time.js';
import type { Actor } from '../changes/changes.js';
import type { Effects, UnitOfWork } from '../changes/unit-of-work.js';
import { hashesEqual, normalizeCodeInput } from '../claims/claims.js';
import { normalizeEmail, toCustomer } from '../customers/customers.js';
import { insertCustomer, lockCustomerById } from '../customers/customers.repository.js';
import { emailTaken } from '../customers/customers.service.js';
import {
  DEFAULT_MAX_IDENTITIES_PER_CUSTOMER,
  type Identity,
  type IdentityRules,
  normalizeChannel,
  normalizeIdentityKey,
  refusePlaceholderExternalId,
  resolveScope,
  toIdentity,
  type VerifiedVia,
} from '../identities/identities.js';
import {
  findKeyOwner,
  findSenderIdentities,
  insertIdentity,
  lockIdentityOfCustomer,
} from '../identities/identities.repository.js';
import { ALREADY_LINKED, assertIdentityRoom, linking } from '../identities/identities.service.js';
import { SuppressedError, type SuppressionGuard } from '../privacy/suppression.js';
import { decodeCursor, toPage } from '../shared/cursor.js';
import type { LinkThrottle } from '../throttle/link-throttle.js';
import { enqueueDecisionNotice } from './chat-notices.js';
import {
  generateLinkCode,
  hashLinkCode,
  isLive,
  type LinkRequest,
  type LinkRequestStatus,
  linkInstructions,
  toLinkRequest,
} from './link-requests.js';
import {
  decidePending,
  findByCodeHash,
  findLinkRequestById,
  firstPendingExpiry,
  insertLinkRequest,
  listLinkRequests,
  livePendingAtCap,
  lockLinkRequestById,
  lockNewRequests,
  lockPendingOfAccount,
  updateLinkRequest,
} from './link-requests.repository.js';
import type { LinkRequestRow } from './link-requests.table.js';

export interface NewLinkRequest {
  channel: string;
  external_id: string;
  instance_id?: string | null | undefined;
  display_name?: string | null | undefined;
}

/** Who the account goes to: an existing customer, or one made for it. */
export interface Decision {
  customer_id?: string | undefined;
  customer?: { email: string; name?: string | null | undefined; metadata?: Record<string, unknown> | undefined };
  role_override?: string | null | undefined;
}

export interface LinkWithCode {
  channel: string;
  external_id: string;
  instance_id?: string | null | undefined;
  code: string;
}

/** A request with its code: the code is shown only in this answer. */
export interface IssuedLinkRequest {
  /** False when a pending request of the account was renewed (same id, fresh code). */
  created: boolean;
  link_request: LinkRequest;
  code: string;
  instructions: string;
  ttl_seconds: number;
}

/** What a chat's `/link` asked for came to; the chat colleague turns each into a reply. */
export type ChatLinkRequestOutcome =
  | ({ ok: true } & IssuedLinkRequest)
  | { ok: false; reason: 'already_linked' }
  /** The account was erased and is suppressed: the chat says no without saying why. */
  | { ok: false; reason: 'refused' }
  | { ok: false; reason: 'too_many_pending'; retry_after_seconds: number }
  | { ok: false; reason: 'rate_limited'; retry_after_seconds: number };

/** What a chat's `/link CODE` came to; `invalid` for every failure the API answers with its 400. */
export type ChatLinkOutcome =
  | { ok: true; identity: Identity; link_request: LinkRequest }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'rate_limited'; retry_after_seconds: number };

export const TOO_MANY_PENDING = 'Too many pending link requests; try again later';
const linkRequestNotFound = () => notFound('Link request');
const notPending = (status: LinkRequestStatus) => conflict(`This link request is not pending (it is ${status})`);

export type LinkRequestsService = ReturnType<typeof createLinkRequestsService>;

export function createLinkRequestsService(deps: {
  db: Kysely<Database>;
  uow: UnitOfWork;
  clock: Clock;
  random: Random;
  /** The claim codes' secret (claim-secret.ts); link codes' HMACs are kept apart by a prefix. */
  secret: string;
  ttlSeconds: number;
  maxPending: number;
  rules?: IdentityRules | undefined;
  throttle: LinkThrottle;
  /** Erased people's accounts and emails may not come back through a request (privacy feature). */
  suppressions?: SuppressionGuard | undefined;
  /** Called after a decision is committed: a chat notice may wait to be sent. */
  onDecided?: (() => void) | undefined;
}) {
  const { db, uow, clock, random, secret, ttlSeconds, maxPending } = deps;
  const maxIdentities = deps.rules?.maxIdentitiesPerCustomer ?? DEFAULT_MAX_IDENTITIES_PER_CUSTOMER;

  function issue(
    actor: Actor,
    input: NewLinkRequest,
    origin: { origin: 'api' } | { origin: 'chat'; reply_to: unknown },
  ): Promise<IssuedLinkRequest> {
    const key = normalizeIdentityKey(input, 'body', deps.rules);
    refusePlaceholderExternalId(key.external_id, ['body', 'external_id'], deps.rules);
    const scope = input.instance_id ?? '';
    const code = generateLinkCode(random);
    const codeHmac = hashLinkCode(secret, code);
    const fromChat =
      origin.origin === 'chat' ? { origin: 'chat' as const, reply_to: JSON.stringify(origin.reply_to) } : {};

    const once = () =>
      uow(actor, async (trx, fx) => {
        const now = clock.now();
        const nowIso = now.toISOString();
        const expiresAt = addSeconds(now, ttlSeconds).toISOString();
        await deps.suppressions?.assertNotSuppressed(trx, { channel: key.channel, external_id: key.external_id });
        const owner = await findKeyOwner(trx, key.channel, key.external_id, scope);
        if (owner) {
          throw new ConflictError(ALREADY_LINKED, { customer_id: owner.customer_id, identity_id: owner.identity_id });
        }
        const pending = await lockPendingOfAccount(trx, key.channel, key.external_id, scope);
        if (pending && isLive(pending, nowIso)) {
          // Asked again: the same request with a fresh code; the old code is void (overwritten).
          const renewed = await updateLinkRequest(trx, pending.id, {
            code_hmac: codeHmac,
            expires_at: expiresAt,
            updated_at: nowIso,
            ...(input.display_name !== undefined ? { display_name: input.display_name } : {}),
            ...fromChat,
          });
          await fx.audit({
            action: 'link_request.renewed',
            before: toLinkRequest(pending, nowIso),
            after: toLinkRequest(renewed, nowIso),
          });
          return { created: false, row: renewed };
        }
        // Past its expiry: its place in the unique index goes to the new request.
        if (pending)
          await updateLinkRequest(trx, pending.id, { status: 'expired', code_hmac: null, updated_at: nowIso });
        await lockNewRequests(trx);
        if (await livePendingAtCap(trx, nowIso, maxPending)) {
          const first = await firstPendingExpiry(trx, nowIso);
          const waitMs = first === undefined ? 1000 : Date.parse(first) - now.getTime();
          throw new RateLimitedError(TOO_MANY_PENDING, Math.max(1, Math.ceil(waitMs / 1000)));
        }
        const row = await insertLinkRequest(trx, {
          id: randomUUID(),
          channel: key.channel,
          external_id: key.external_id,
          instance_id: input.instance_id ?? null,
          scope,
          display_name: input.display_name ?? null,
          status: 'pending',
          code_hmac: codeHmac,
          origin: 'api',
          reply_to: null,
          ...fromChat,
          created_at: nowIso,
          updated_at: nowIso,
          expires_at: expiresAt,
          decided_at: null,
          customer_id: null,
          identity_id: null,
        });
        await fx.audit({ action: 'link_request.created', after: toLinkRequest(row, nowIso) });
        return { created: true, row };
      });

    return mapDbError(async () => {
      let result: { created: boolean; row: LinkRequestRow };
      try {
        result = await once();
      } catch (error) {
        // Two first requests of one account at once: the unique index let one in; the other,
        // run again, finds it pending and renews it.
        if (classifyDbError(error) !== 'unique') throw error;
        result = await once();
      }
      return {
        created: result.created,
        link_request: toLinkRequest(result.row, isoNow(clock)),
        code,
        instructions: linkInstructions(code, key.channel, ttlSeconds),
        ttl_seconds: ttlSeconds,
      };
    });
  }

  /** The pending request a code belongs to, compared in constant time; undefined for any failure. */
  async function findByCode(rawCode: string): Promise<LinkRequestRow | undefined> {
    const code = normalizeCodeInput(rawCode);
    const expected = hashLinkCode(secret, code);
    const nowIso = isoNow(clock);
    const rows = (await findByCodeHash(db, expected)).filter(
      (row) => row.code_hmac !== null && hashesEqual(row.code_hmac, expected) && isLive(row, nowIso),
    );
    // Two live requests drew the same code (about one in a billion): neither is approved by it,
    // rather than whichever came first.
    return rows.length === 1 ? rows[0] : undefined;
  }

  /** The customer the account goes to, locked (or made now, audited), in the decision's transaction. */
  async function targetCustomer(trx: Transaction<Database>, fx: Effects, decision: Decision): Promise<string> {
    if (decision.customer_id !== undefined) {
      if (!(await lockCustomerById(trx, decision.customer_id))) throw notFound('Customer');
      return decision.customer_id;
    }
    const input = decision.customer as NonNullable<Decision['customer']>;
    const now = isoNow(clock);
    const email = normalizeEmail(input.email);
    await deps.suppressions?.assertNotSuppressed(trx, { email });
    let row: Awaited<ReturnType<typeof insertCustomer>>;
    try {
      row = await insertCustomer(trx, {
        id: randomUUID(),
        email,
        name: input.name ?? null,
        metadata: JSON.stringify(input.metadata ?? {}),
        created_at: now,
        updated_at: now,
      });
    } catch (error) {
      // Told apart here from the account's own unique index, which `linking` answers with whom.
      if (classifyDbError(error) === 'unique') throw emailTaken();
      throw error;
    }
    const customer = toCustomer(row);
    await fx.audit({ action: 'customer.created', customerId: customer.id, after: customer });
    return customer.id;
  }

  /**
   * Links the request's account to a customer and approves the request, in one transaction with
   * its audit entries, events and chat notice. The request is locked and checked again inside:
   * of concurrent deciders exactly one finds it pending (`stale` is what the others get).
   */
  async function approve(
    actor: Actor,
    found: LinkRequestRow,
    resolveCustomer: (trx: Transaction<Database>, fx: Effects) => Promise<string>,
    proof: { via: VerifiedVia | null; role_override: string | null; byCode: boolean },
    stale: (row: LinkRequestRow | undefined, nowIso: string) => DomainError,
  ): Promise<{ link_request: LinkRequest; identity: Identity }> {
    const key = { channel: found.channel, external_id: found.external_id, scope: found.scope };
    const decided = await linking(db, key, () =>
      uow(actor, async (trx, fx) => {
        const customerId = await resolveCustomer(trx, fx);
        const nowIso = isoNow(clock);
        const current = await lockLinkRequestById(trx, found.id);
        // A code renewed meanwhile is void: only the code the request has now may approve it.
        if (!current || !isLive(current, nowIso) || (proof.byCode && current.code_hmac !== found.code_hmac)) {
          throw stale(current, nowIso);
        }
        // Requests of an erased person's accounts went with them; one asked while it was being
        // erased may still be here.
        await deps.suppressions?.assertNotSuppressed(trx, {
          channel: current.channel,
          external_id: current.external_id,
        });
        await assertIdentityRoom(trx, maxIdentities, customerId, 1);
        const identity = toIdentity(
          await insertIdentity(trx, {
            id: randomUUID(),
            customer_id: customerId,
            channel: current.channel,
            external_id: current.external_id,
            instance_id: current.instance_id,
            display_name: current.display_name,
            role_override: proof.role_override,
            verified_at: proof.via === null ? null : nowIso,
            verified_via: proof.via,
            metadata: '{}',
            created_at: nowIso,
            updated_at: nowIso,
          }),
        );
        fx.identityChanged(identity.channel, identity.external_id);
        await fx.audit({ action: 'identity.created', customerId, identityId: identity.id, after: identity });
        const decided = await decidePending(trx, current.id, nowIso, {
          status: 'approved',
          customer_id: customerId,
          identity_id: identity.id,
        });
        if (!decided) throw stale(current, nowIso);
        const linkRequest = toLinkRequest(decided, nowIso);
        await fx.audit({
          action: 'link_request.approved',
          customerId,
          identityId: identity.id,
          before: toLinkRequest(current, nowIso),
          after: linkRequest,
          eventData: { identity },
        });
        await enqueueDecisionNotice(trx, decided, 'link_request.approved', nowIso);
        return { link_request: linkRequest, identity };
      }),
    );
    deps.onDecided?.();
    return decided;
  }

  /** The admin's body names exactly one of customer_id and customer. */
  function checkDecision(decision: Decision) {
    if (decision.customer_id !== undefined && decision.customer !== undefined) {
      throw new FieldError(['body', 'customer'], 'Value error, give either customer_id or customer, not both');
    }
    if (decision.customer_id === undefined && decision.customer === undefined) {
      throw new FieldError(['body', 'customer_id'], 'Field required', 'missing');
    }
  }

  /** The sender's own identity (as the lookup would answer for it), when it is verified. */
  async function verifiedSender(input: LinkWithCode) {
    const sender = normalizeIdentityKey(input, 'body', deps.rules);
    const instanceId = input.instance_id ?? undefined;
    const candidates = await findSenderIdentities(db, sender.channel, sender.external_id, instanceId);
    const identity = resolveScope(candidates, instanceId);
    return { sender, identity: identity?.verified_at ? identity : undefined };
  }

  async function selfService(
    actor: Actor,
    input: LinkWithCode,
  ): Promise<{ identity: Identity; link_request: LinkRequest }> {
    const sender = normalizeIdentityKey(input, 'body', deps.rules);
    // Counted before anything is read, so that a guesser over the limit costs no database read.
    const ticket = await deps.throttle.sender(sender.channel, sender.external_id);
    try {
      const result = await mapDbError(async () => {
        const { identity: own } = await verifiedSender(input);
        const found = await findByCode(input.code);
        if (!own || !found) throw invalidLinkCode();
        const senderCustomer = own.customer_id;
        try {
          return await approve(
            actor,
            found,
            async (trx) => {
              // The customer, then its identity (the lock order): the sender must still be its
              // verified account now, not merely when it was read.
              await lockCustomerById(trx, senderCustomer);
              const still = await lockIdentityOfCustomer(trx, senderCustomer, own.id);
              if (!still?.verified_at) throw invalidLinkCode();
              return senderCustomer;
            },
            { via: 'linked_identity', role_override: null, byCode: true },
            () => invalidLinkCode(),
          );
        } catch (error) {
          // The account was linked meanwhile: who has it is none of the sender's business.
          if (error instanceof ConflictError) throw invalidLinkCode();
          throw error;
        }
      });
      await ticket.succeeded();
      return result;
    } catch (error) {
      // Only a failed code (or a sender who may not use one) counts against the sender.
      if (!isInvalidLinkCode(error)) await ticket.succeeded();
      throw error;
    }
  }

  return {
    /** `POST /v1/link-requests`: a new request (201) or the account's pending one renewed (200). */
    create: (actor: Actor, input: NewLinkRequest) => issue(actor, input, { origin: 'api' }),

    async get(id: string): Promise<LinkRequest> {
      const row = await mapDbError(() => findLinkRequestById(db, id));
      if (!row) throw linkRequestNotFound();
      return toLinkRequest(row, isoNow(clock));
    },

    async list(query: {
      status?: LinkRequestStatus | undefined;
      channel?: string | undefined;
      limit: number;
      cursor?: string | undefined;
    }) {
      const before = decodeCursor(query.cursor);
      const channel = query.channel === undefined ? undefined : normalizeChannel(query.channel, ['query', 'channel']);
      const now = isoNow(clock);
      const rows = await mapDbError(() =>
        listLinkRequests(db, { status: query.status, channel, limit: query.limit + 1, before, now }),
      );
      return toPage(
        rows,
        query.limit,
        (row) => toLinkRequest(row, now),
        (row) => ({ at: row.created_at, id: row.id }),
      );
    },

    /**
     * Who a code belongs to, without spending it: the operator checks the account before choosing
     * a customer. Its failures count against the key's budget with redemptions', so looking up
     * first buys a guesser nothing.
     */
    async lookup(actor: Actor, code: string): Promise<LinkRequest> {
      const ticket = await deps.throttle.key(actor);
      try {
        const found = await mapDbError(() => findByCode(code));
        if (!found) throw invalidLinkCode();
        await ticket.succeeded();
        return toLinkRequest(found, isoNow(clock));
      } catch (error) {
        if (!isInvalidLinkCode(error)) await ticket.succeeded();
        throw error;
      }
    },

    /** The operator types the code the person read out: the account is linked, verified. */
    async redeem(actor: Actor, input: Decision & { code: string }) {
      checkDecision(input);
      const ticket = await deps.throttle.key(actor);
      try {
        const result = await mapDbError(async () => {
          const found = await findByCode(input.code);
          if (!found) throw invalidLinkCode();
          return approve(
            actor,
            found,
            (trx, fx) => targetCustomer(trx, fx, input),
            { via: 'link_request', role_override: input.role_override ?? null, byCode: true },
            () => invalidLinkCode(),
          );
        });
        await ticket.succeeded();
        return result;
      } catch (error) {
        if (!isInvalidLinkCode(error)) await ticket.succeeded();
        throw error;
      }
    },

    /** Without a code there is no proof: the account is linked unverified. */
    async approve(actor: Actor, id: string, input: Decision) {
      checkDecision(input);
      return mapDbError(async () => {
        const found = await findLinkRequestById(db, id);
        if (!found) throw linkRequestNotFound();
        const status = toLinkRequest(found, isoNow(clock)).status;
        if (status !== 'pending') throw notPending(status);
        return approve(
          actor,
          found,
          (trx, fx) => targetCustomer(trx, fx, input),
          { via: null, role_override: input.role_override ?? null, byCode: false },
          (row, nowIso) => (row ? notPending(toLinkRequest(row, nowIso).status) : linkRequestNotFound()),
        );
      });
    },

    async reject(actor: Actor, id: string): Promise<LinkRequest> {
      const rejected = await mapDbError(() =>
        uow(actor, async (trx, fx) => {
          const nowIso = isoNow(clock);
          const current = await lockLinkRequestById(trx, id);
          if (!current) throw linkRequestNotFound();
          const decided = await decidePending(trx, id, nowIso, { status: 'rejected' });
          if (!decided) throw notPending(toLinkRequest(current, nowIso).status);
          const linkRequest = toLinkRequest(decided, nowIso);
          await fx.audit({
            action: 'link_request.rejected',
            before: toLinkRequest(current, nowIso),
            after: linkRequest,
          });
          await enqueueDecisionNotice(trx, decided, 'link_request.rejected', nowIso);
          return linkRequest;
        }),
      );
      deps.onDecided?.();
      return rejected;
    },

    /**
     * `POST /v1/customers/identities/link`: the sender, a verified account, adds the account of a
     * pending request to its own customer. Every failure is the same 400.
     */
    async link(actor: Actor, input: LinkWithCode): Promise<Identity> {
      return (await selfService(actor, input)).identity;
    },

    /**
     * A chat's `/link` from an account nobody has: a request (or the pending one renewed) with a
     * code to reply with. `reply_to` is kept as given (JSON) and copied into the chat notice of
     * the decision; its shape is the chat channel's own (channels/chat-reply-to.ts).
     */
    async requestFromChat(
      actor: Actor,
      input: NewLinkRequest & { instance_id?: string | null | undefined; reply_to: unknown },
    ): Promise<ChatLinkRequestOutcome> {
      try {
        const key = normalizeIdentityKey(input, 'body', deps.rules);
        await deps.throttle.asker(key.channel, key.external_id);
        return { ok: true, ...(await issue(actor, input, { origin: 'chat', reply_to: input.reply_to })) };
      } catch (error) {
        if (error instanceof ConflictError && error.detail === ALREADY_LINKED)
          return { ok: false, reason: 'already_linked' };
        if (error instanceof SuppressedError) return { ok: false, reason: 'refused' };
        if (error instanceof RateLimitedError) {
          const reason = error.detail === TOO_MANY_PENDING ? 'too_many_pending' : 'rate_limited';
          return { ok: false, reason, retry_after_seconds: error.retryAfterSeconds };
        }
        throw error;
      }
    },

    /** A chat's `/link CODE`: the self-service link, with its failures told apart only as the API does. */
    async linkFromChat(actor: Actor, sender: Omit<LinkWithCode, 'code'>, code: string): Promise<ChatLinkOutcome> {
      try {
        return { ok: true, ...(await selfService(actor, { ...sender, code })) };
      } catch (error) {
        if (error instanceof RateLimitedError) {
          return { ok: false, reason: 'rate_limited', retry_after_seconds: error.retryAfterSeconds };
        }
        // A suppressed account is told apart from a wrong code only by the API (see requestFromChat).
        if (isInvalidLinkCode(error) || error instanceof SuppressedError) return { ok: false, reason: 'invalid' };
        // A sender id that does not normalize (never from a real platform) can own no identity.
        if (error instanceof DomainError && error.code === 'validation') return { ok: false, reason: 'invalid' };
        throw error;
      }
    },
  };
}
