import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import type { Random } from '../../internal/clock.js';

const SETTING = 'claim_code_secret';

/**
 * The key of the claim codes' HMAC. `CLAIM_CODE_SECRET` is the strong choice: a copy of the
 * database alone then cannot test guesses. Without it, a random secret is made at first start and
 * kept in the database (the first replica to start wins; the others read it).
 */
export async function resolveClaimSecret(
  db: Kysely<Database>,
  configured: string | undefined,
  random: Random,
): Promise<string> {
  if (configured) return configured;
  await db
    .insertInto('settings')
    .values({ key: SETTING, value: random.bytes(32).toString('hex') })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db.selectFrom('settings').select('value').where('key', '=', SETTING).executeTakeFirstOrThrow();
  return row.value;
}
