/** What claim redemptions ended in since start, for /metrics. */
export interface ClaimOutcomes {
  succeeded: number;
  /** Wrong, expired or spent code, or a sender with no identity. */
  failed: number;
  /** Failed, and that failure used up the code's last attempt. */
  voided: number;
  /** Refused by the throttle before any code was compared. */
  rate_limited: number;
}

export const newClaimOutcomes = (): ClaimOutcomes => ({ succeeded: 0, failed: 0, voided: 0, rate_limited: 0 });
