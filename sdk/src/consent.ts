/**
 * Whether the SDK may send and store. With consent required (by `init` or by the workspace's
 * GET /v1/sdk/config), nothing is sent and nothing is written to persistent storage until
 * `consent(true)`; calls made before are held in memory (bounded like the retry buffer) and sent
 * then, or dropped on `consent(false)` or when the page goes away. Until the config has answered,
 * the SDK also waits (normally a few tens of milliseconds); if it cannot be fetched, `init`'s
 * `consentRequired` decides. `consent(false)` always stops the SDK and erases what it stored.
 */
export type Decision = 'unknown' | 'granted' | 'denied';

export class Consent {
  /** null while the workspace's config has not answered and init did not require consent */
  required: boolean | null;
  decision: Decision;

  constructor(initRequired: boolean, storedGrant: boolean) {
    this.required = initRequired ? true : null;
    this.decision = storedGrant ? 'granted' : 'unknown';
  }

  allowed(): boolean {
    if (this.decision === 'denied') return false;
    return this.decision === 'granted' || this.required === false;
  }

  /** Calls made now are held in memory (true) or dropped (false, after a refusal). */
  holding(): boolean {
    return this.decision !== 'denied';
  }
}
