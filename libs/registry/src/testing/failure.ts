import { expect } from 'vitest';

import { RegistryError } from '../registry-error';

/** Awaits a promise that must reject with a RegistryError, and returns that error. */
export async function failure(promise: Promise<unknown>): Promise<RegistryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RegistryError);
  return error as RegistryError;
}
