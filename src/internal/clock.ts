import { randomBytes, randomInt } from 'node:crypto';

/** Time comes from one place so that tests can move it (claim-code expiry). */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Randomness comes from one place too, so that tests could pin it. */
export interface Random {
  /** A uniformly drawn integer in [0, max). */
  int(max: number): number;
  bytes(size: number): Buffer;
}

export const cryptoRandom: Random = {
  int: (max) => randomInt(max),
  bytes: (size) => randomBytes(size),
};

export const isoNow = (clock: Clock) => clock.now().toISOString();
