import { describe, expect, it } from 'vitest';
import { DIALECTS } from './helpers/dialects.js';

/**
 * CI must run every test on PostgreSQL too. Without TEST_DATABASE_URL the suite quietly runs on
 * SQLite only, so in CI (CI set) its absence is a failure, not a skip.
 */
const inCi = !['', '0', 'false'].includes((process.env.CI ?? '').toLowerCase());

describe('the CI guard', () => {
  it('runs the PostgreSQL tests whenever CI is set', () => {
    if (inCi) {
      expect(
        process.env.TEST_DATABASE_URL,
        'CI is set but TEST_DATABASE_URL is not: PostgreSQL tests would not run',
      ).toMatch(/^postgres(ql)?:\/\//);
      expect(DIALECTS.map((d) => d.name)).toContain('postgres');
    }
    expect(DIALECTS.map((d) => d.name)).toContain('sqlite');
  });
});
