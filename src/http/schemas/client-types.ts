import type {
  ClaimCode,
  Customer,
  Identity,
  IssuedLinkRequest,
  LinkRequest,
  LinkRequestApproval,
  LookupResult,
  ServiceInfo,
  WebhookEventType,
} from '@identity-service/client';
import type { Static, TSchema } from '@sinclair/typebox';
import type { EventType } from '../../features/webhooks/webhooks.js';
import type { ServiceInfoSchema } from '../routes/service-info/index.js';
import type { IssuedLinkRequestSchema, LinkRequestApprovalSchema, LinkRequestSchema } from './link-requests.js';
import type { ClaimCodeSchema, CustomerSchema, IdentitySchema, LookupResultSchema } from './resources.js';

// One definition of each resource's shape: the client package's types (packages/client), which the
// runtime and the dashboard use. The schemas here validate and document what the server sends;
// these compile-time checks fail `npm run typecheck` (and the build) the moment the two differ:
// a field on one side only, or a type or nullability that is not the same.

type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false;
type Assignable<From, To> = [From] extends [To] ? true : false;
/**
 * The schema's type and the client's interface have the same fields, and every value of one is a
 * value of the other (metadata is checked one way only: the client's JSON type is narrower than
 * the schema's open object).
 */
type Matches<S extends TSchema, Client> =
  SameKeys<Static<S>, Client> extends true
    ? Assignable<Client, Static<S>> extends true
      ? Assignable<Omit<Static<S>, 'metadata'>, Omit<Client, 'metadata'>> extends true
        ? true
        : false
      : false
    : false;

type Check<T extends true> = T;

export type ClientTypesMatchSchemas = [
  Check<Matches<typeof CustomerSchema, Customer>>,
  Check<Matches<typeof IdentitySchema, Identity>>,
  Check<Matches<typeof LookupResultSchema, LookupResult>>,
  Check<Matches<typeof ClaimCodeSchema, ClaimCode>>,
  Check<Matches<typeof ServiceInfoSchema, ServiceInfo>>,
  Check<Matches<typeof LinkRequestSchema, LinkRequest>>,
  Check<Matches<typeof IssuedLinkRequestSchema, IssuedLinkRequest>>,
  Check<Matches<typeof LinkRequestApprovalSchema, LinkRequestApproval>>,
];

/** The service's event types and the client's are the same set. */
export type EventTypesMatch = Check<
  Assignable<EventType, WebhookEventType> extends true ? Assignable<WebhookEventType, EventType> : false
>;
