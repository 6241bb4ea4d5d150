import { describe, expect, it } from 'vitest';

import { DeployError } from './deploy.error';
import { deriveWorkloadName, MAX_WORKLOAD_NAME_LENGTH, validateWorkloadName } from './workload-name';

describe('validateWorkloadName', () => {
  it.each(['a', 'wallet-signer', 'signer-2', '0x', 'a'.repeat(MAX_WORKLOAD_NAME_LENGTH)])('accepts %s', (name) => {
    expect(validateWorkloadName(name)).toBe(name);
  });

  it.each([
    ['a missing name', undefined, /non-empty string/],
    ['an empty name', '', /non-empty string/],
    ['a number', 7, /non-empty string/],
    ['upper case', 'Wallet', /"Wallet" is not a DNS-1123 label/],
    ['a leading dash', '-wallet', /"-wallet" is not a DNS-1123 label/],
    ['a trailing dash', 'wallet-', /"wallet-" is not a DNS-1123 label/],
    ['an underscore', 'wallet_signer', /is not a DNS-1123 label/],
    ['a dot', 'wallet.signer', /is not a DNS-1123 label/],
    ['a newline', 'wallet\nkind: Secret', /"wallet\\nkind: Secret" is not a DNS-1123 label/],
    ['64 characters', 'a'.repeat(64), /at most 63 characters/],
  ])('refuses %s', (_case, name, message) => {
    expect(() => validateWorkloadName(name)).toThrow(DeployError);
    expect(() => validateWorkloadName(name)).toThrow(message);
    try {
      validateWorkloadName(name);
    } catch (error) {
      expect((error as DeployError).code).toBe('NAME_INVALID');
      expect((error as DeployError).details).toEqual({ field: 'name' });
    }
  });
});

describe('deriveWorkloadName', () => {
  it.each([
    ['org/wallet', 'wallet'],
    ['org/wallet_signer', 'wallet-signer'],
    ['a.b__c---d', 'a-b-c-d'],
    ['deep/path/to/signer.v2', 'signer-v2'],
    [`org/${'a'.repeat(62)}_b`, 'a'.repeat(62)],
  ])('derives %s → %s', (repository, name) => {
    expect(deriveWorkloadName(repository)).toBe(name);
    expect(validateWorkloadName(deriveWorkloadName(repository))).toBe(name);
  });
});
