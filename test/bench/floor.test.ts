import { describe, expect, it } from 'vitest';
import { cpuSecondsOf } from '../../bench/scenarios.js';
import { startFloor } from '../../bench/server-process.js';

describe("npm run bench --compare-node: Node's bare HTTP server", () => {
  it('answers every request, whatever its path and key, with the body it is given, as JSON', async () => {
    const body = JSON.stringify({ channel: 'telegram', external_id: '100000000', verified: true });
    const floor = await startFloor(body);
    try {
      for (const path of ['/', '/v1/customers/lookup/identity?channel=slack&external_id=U1', '/healthz']) {
        const response = await fetch(`${floor.url}${path}`);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
        expect(await response.text()).toBe(body);
      }
    } finally {
      expect(await floor.stop()).toBe(0);
    }
  });
});

describe('bench/extra-work.ts: the floor with extra CPU per request', () => {
  it('spends FLOOR_WORK_US of CPU on every request before answering it', async () => {
    const body = JSON.stringify({ channel: 'telegram' });
    const floor = await startFloor(body, 5_000);
    try {
      const before = cpuSecondsOf(floor.pid) as number;
      for (let i = 0; i < 20; i++) expect(await (await fetch(floor.url)).text()).toBe(body);
      // 20 requests × 5 ms, counted in clock ticks of 10 ms.
      expect((cpuSecondsOf(floor.pid) as number) - before).toBeGreaterThanOrEqual(0.09);
    } finally {
      expect(await floor.stop()).toBe(0);
    }
  });
});
