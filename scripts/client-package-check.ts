// Run by scripts/client-package-test.sh inside a scratch project that installed the packed
// @identity-service/client: the runtime's story through the package, against a running service.
import {
  type ClaimCode,
  ConflictError,
  createIdentityClient,
  type Identity,
  InvalidClaimError,
  type LookupResult,
  ValidationError,
} from '@identity-service/client';

const [baseUrl, adminKey] = process.argv.slice(2);
if (!baseUrl || !adminKey) throw new Error('usage: check.ts BASE_URL ADMIN_KEY');

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`client package check failed: ${what}`);
  console.log(`ok: ${what}`);
}

async function until<T>(attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

const admin = createIdentityClient({ baseUrl, apiKey: adminKey });
const info = await until(() => admin.serviceInfo());
check(typeof info.version === 'string' && info.claim_code_ttl_seconds > 0, `service-info (version ${info.version})`);

const customer = await admin.createCustomer({ email: 'Steve@Acme.com', name: 'Steve' });
check(customer.email === 'steve@acme.com', 'createCustomer normalizes the email');
const identity: Identity = await admin.createIdentity(customer.id, { channel: 'telegram', external_id: '12345' });
check(identity.verified === false, 'createIdentity links an unverified identity');
try {
  await admin.createIdentity(customer.id, { channel: 'telegram', external_id: ' 012345' });
  check(false, 'a second link of the same identity is refused');
} catch (error) {
  check(error instanceof ConflictError && error.status === 409, 'a second link is a ConflictError');
}
try {
  await admin.createIdentity(customer.id, { channel: 'telegram', external_id: 'not-a-number' });
  check(false, 'a bad Telegram id is refused');
} catch (error) {
  check(error instanceof ValidationError && error.issues.length > 0, 'a bad Telegram id is a ValidationError');
}

const runtimeKey = await fetch(`${baseUrl}/v1/api-keys`, {
  method: 'POST',
  headers: { 'x-api-key': adminKey, 'content-type': 'application/json' },
  body: JSON.stringify({ name: 'scratch-runtime', scope: 'runtime' }),
}).then((response) => response.json() as Promise<{ key: string }>);
const runtime = createIdentityClient({ baseUrl, apiKey: runtimeKey.key, timeoutMs: 5_000 });

const before: LookupResult | null = await runtime.lookupIdentity({ channel: 'telegram', external_id: '12345' });
check(before?.customer_id === customer.id && before.verified === false, 'the runtime looks the identity up');
check((await runtime.lookupIdentity({ channel: 'telegram', external_id: '999' })) === null, 'nobody is null');

const code: ClaimCode = await admin.generateClaimCode(customer.id, identity.id);
try {
  await runtime.claim({ channel: 'telegram', external_id: '12345', code: 'AAAAAA' });
  check(false, 'a wrong code is refused');
} catch (error) {
  check(error instanceof InvalidClaimError, 'a wrong code is an InvalidClaimError');
}
const claimed = await runtime.claim({ channel: 'telegram', external_id: '12345', code: code.code });
check(claimed.verified && claimed.role_override === 'owner', 'the claim verifies the identity as owner');
const after = await runtime.lookupIdentity({ channel: 'telegram', external_id: '12345' });
check(after?.verified === true && after.role_override === 'owner', 'the next lookup says verified owner');
