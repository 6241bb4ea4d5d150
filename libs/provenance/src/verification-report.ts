/** One named check; every failure an auditor sees names the check that failed. */
export interface VerificationCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

/** What the verified statement says, for display (only trustworthy when `verified`). */
export interface ProvenanceSummary {
  subjects: { name?: string; digest: Record<string, string> }[];
  builderId?: string;
  repository?: string;
  ref?: string;
  commit?: string;
  tee?: string;
  tcbStatus?: string;
  reproducibility?: string;
  signingKeySha256?: string;
  finishedOn?: string;
  /** runDetails.metadata.invocationId: the build's URL on a Secure Build server, or a urn:uuid */
  invocationId?: string;
}

/** Result of verifying a provenance bundle against a policy. */
export interface VerificationReport {
  verified: boolean;
  checks: VerificationCheck[];
  summary: ProvenanceSummary;
}

/** Collects checks in order; `verified` is true only when there is at least one and none failed. */
export class CheckList {
  readonly checks: VerificationCheck[] = [];

  pass(name: string, detail?: string): true {
    this.checks.push({ name, ok: true, ...(detail ? { detail } : {}) });
    return true;
  }

  fail(name: string, detail: string): false {
    this.checks.push({ name, ok: false, detail });
    return false;
  }

  check(name: string, ok: boolean, failDetail: string, passDetail?: string): boolean {
    return ok ? this.pass(name, passDetail) : this.fail(name, failDetail);
  }

  get ok(): boolean {
    return this.checks.length > 0 && this.checks.every((c) => c.ok);
  }
}
