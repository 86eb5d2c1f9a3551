// Checks a server started from the container image (scripts/container-test.sh): it comes up,
// is alive and ready, and answers the runtime's lookup for an identity an operator linked.
// BASE_URL and API_KEY (an admin key) come from the environment.
import { readFileSync } from 'node:fs';

const base = process.env.BASE_URL;
const key = process.env.API_KEY;
if (!base || !key) throw new Error('BASE_URL and API_KEY must be set');
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

function check(ok, what) {
  if (!ok) throw new Error(`container check failed: ${what}`);
  console.log(`ok: ${what}`);
}

async function call(method, path, { body, apiKey = key } = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'x-api-key': apiKey, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

// Up within a minute (the first start migrates the database).
const deadline = Date.now() + 60_000;
for (;;) {
  try {
    if ((await fetch(`${base}/healthz`)).ok) break;
  } catch {
    // not listening yet
  }
  if (Date.now() > deadline) throw new Error(`no answer from ${base}/healthz within 60 s`);
  await new Promise((resolve) => setTimeout(resolve, 250));
}

const health = await call('GET', '/healthz');
check(health.status === 200 && health.body.status === 'ok', 'GET /healthz is 200 {"status":"ok"}');
const ready = await call('GET', '/readyz');
check(ready.status === 200 && ready.body.status === 'ready', `GET /readyz is 200 ready (${ready.body?.database})`);
const info = await call('GET', '/v1/service-info');
check(info.status === 200 && info.body.version === version, `the image reports version ${version}`);

const customer = await call('POST', '/v1/customers', { body: { email: 'Steve@Acme.com', name: 'Steve' } });
check(customer.status === 201, 'an admin creates a customer');
const identity = await call('POST', `/v1/customers/${customer.body.id}/identities`, {
  body: { channel: 'Telegram', external_id: ' 0012345', display_name: 'Steve' },
});
check(identity.status === 201 && identity.body.external_id === '12345', 'links a normalized Telegram identity');
const runtime = await call('POST', '/v1/api-keys', { body: { name: 'runtime', scope: 'runtime' } });
check(runtime.status === 201, 'creates a runtime key');

const lookup = await call('GET', '/v1/customers/lookup/identity?channel=telegram&external_id=12345', {
  apiKey: runtime.body.key,
});
check(
  lookup.status === 200 && lookup.body.customer_email === 'steve@acme.com' && lookup.body.verified === false,
  'the runtime looks the identity up',
);
const nobody = await call('GET', '/v1/customers/lookup/identity?channel=telegram&external_id=999', {
  apiKey: runtime.body.key,
});
check(nobody.status === 404 && nobody.body.detail === 'Identity not found', 'an unknown identity is a 404');
const page = await fetch(`${base}/`);
check(page.ok && (await page.text()).includes('<script'), 'the dashboard is served at /');
