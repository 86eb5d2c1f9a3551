import { describe, expect, it } from 'vitest';
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
