// Scripts depend on these values; do not renumber.
export const ExitCode = {
  Ok: 0,
  /** verification failed, or the build failed */
  Failed: 1,
  /** bad usage or unreadable input */
  Usage: 2,
} as const;

/** An error that ends the CLI with a given exit code and a one-line message. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.Usage,
  ) {
    super(message);
  }
}
