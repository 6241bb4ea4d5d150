/** One named verification step and its outcome. */
export interface VerificationCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string;
}

/** Marker for a value that a failed (or not evaluated) earlier check could not produce. */
type Missing = undefined;

/**
 * Runs verification steps so that nothing throws out of the verifier: a step passes when its function
 * returns and fails (with the error message as detail) when it throws. Steps whose inputs are missing
 * because an earlier step failed are recorded as failed "not evaluated", so every gap is visible.
 */
export class CheckRecorder {
  readonly checks: VerificationCheck[] = [];

  /** Runs `fn(...inputs)` unless an input is missing; returns its result, or undefined on failure. */
  run<A extends unknown[], T>(
    name: string,
    inputs: { [K in keyof A]: A[K] | Missing },
    fn: (...args: A) => T,
    detail?: (result: T) => string | undefined,
  ): T | undefined {
    if (inputs.some((input) => input === undefined)) {
      this.checks.push({ name, ok: false, detail: 'not evaluated: a prerequisite check failed' });
      return undefined;
    }
    try {
      const result = fn(...(inputs as A));
      this.checks.push({ name, ok: true, detail: detail?.(result) });
      return result;
    } catch (error) {
      this.checks.push({ name, ok: false, detail: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
  }

  /** True when every recorded check passed and every required name was recorded. */
  allPassed(required: readonly string[]): boolean {
    const seen = new Set(this.checks.map((check) => check.name));
    return this.checks.every((check) => check.ok) && required.every((name) => seen.has(name));
  }
}
