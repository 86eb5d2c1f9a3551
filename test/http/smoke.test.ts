import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/build-app.js';
import { DIALECTS } from '../helpers/dialects.js';
import { createCustomer, createIdentity } from '../helpers/factories.js';

describe.each(DIALECTS)('the story on $name', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(() => t.close());

  it('links an identity and finds it by reverse lookup', async () => {
    const customer = await createCustomer(t.app, { email: 'Steve@Acme.com' });
    await createIdentity(t.app, customer.id, { channel: 'telegram', external_id: '12345' });
    const response = await t.app.inject({
      url: '/v1/customers/lookup/identity?channel=Telegram&external_id=%2012345',
      headers: t.admin,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ customer_email: 'steve@acme.com', verified: false });
  });
});
