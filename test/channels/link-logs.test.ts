import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, REDACTED } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Services } from '../../src/services.js';
import { ADMIN_KEY } from '../helpers/build-app.js';
import {
  chatDrivers,
  chatEnv,
  DISCORD_BOT_TOKEN,
  SLACK_BOT_TOKEN,
  TELEGRAM_TOKEN,
  WHATSAPP_TOKEN,
} from './chat-drivers.js';
import { FakePlatform } from './fake-platform.js';

const admin = { 'x-api-key': ADMIN_KEY };

// What the log says when a person could not be told: which request and why, and nothing of theirs.
describe('logs of chat notices', () => {
  let app: FastifyInstance;
  const platform = new FakePlatform();
  const raw: string[] = [];

  beforeAll(async () => {
    await platform.start();
    const stream = new Writable({
      write(chunk, _encoding, done) {
        raw.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const config = loadConfig({
      DATABASE_URL: 'sqlite::memory:',
      BOOTSTRAP_API_KEY: ADMIN_KEY,
      LOG_LEVEL: 'info',
      WEBHOOK_POLL_INTERVAL_MS: '3600000',
      ...chatEnv(platform),
    });
    app = await buildApp(config, {
      logger: { level: 'info', stream, redact: { paths: REDACTED, censor: '[redacted]' } },
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await platform.stop();
  });

  it('name the request, the channel and the status of a notice given up; never an address, a text or a token', async () => {
    const drivers = chatDrivers(
      () => app,
      platform,
      () => Math.floor(Date.now() / 1000),
    );
    const senders = [];
    for (const driver of Object.values(drivers)) {
      const sender = driver.newSender();
      const reply = await driver.link(sender);
      senders.push({ driver, sender, code: /link code is (\S+)\./.exec(reply ?? '')?.[1] ?? 'none' });
    }
    // Every platform refuses: the person blocked the bot, or accepts no messages from it.
    platform.respond = () => ({
      status: 403,
      body: { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' },
    });
    const listed = await app.inject({ url: '/v1/link-requests?limit=10', headers: admin });
    for (const request of listed.json<{ items: { id: string }[] }>().items) {
      await app.inject({ method: 'POST', url: `/v1/link-requests/${request.id}/reject`, headers: admin });
    }
    await (app as FastifyInstance & { services: Services }).services.chatNotices.drain();

    const givenUp = raw.filter((line) => line.includes('"chat notice given up"')).map((line) => JSON.parse(line));
    expect(givenUp.map((line) => line.channel).sort()).toEqual(['discord', 'slack', 'telegram', 'whatsapp']);
    for (const line of givenUp) {
      expect(line).toMatchObject({ level: 40, kind: 'link_request.rejected', status: 403, attempts: 1 });
      expect(Object.keys(line).sort()).toEqual(
        [
          'attempts',
          'channel',
          'hostname',
          'kind',
          'level',
          'link_request_id',
          'msg',
          'notice_id',
          'outcome_unknown',
          'pid',
          'status',
          'time',
        ].sort(),
      );
    }
    const all = raw.join('\n');
    for (const { sender, code } of senders) {
      expect(all).not.toContain(sender.platformId);
      expect(all).not.toContain(code);
    }
    for (const secret of [TELEGRAM_TOKEN, SLACK_BOT_TOKEN, WHATSAPP_TOKEN, DISCORD_BOT_TOKEN])
      expect(all).not.toContain(secret);
    expect(all).not.toContain('declined');
  });
});
