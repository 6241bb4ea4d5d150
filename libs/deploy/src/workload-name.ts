import { deployError, quote } from './deploy.error';

// Kubernetes names Pods and containers, and HPCR names pods, with DNS-1123 labels.
const DNS_1123_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;

/** Longest DNS-1123 label. */
export const MAX_WORKLOAD_NAME_LENGTH = 63;

/** Returns `name` if it is a DNS-1123 label (the Pod and container name), or throws NAME_INVALID. */
export function validateWorkloadName(name: unknown): string {
  if (typeof name !== 'string' || name === '') {
    throw deployError('NAME_INVALID', 'name', 'the workload name must be a non-empty string');
  }
  if (name.length > MAX_WORKLOAD_NAME_LENGTH || !DNS_1123_LABEL.test(name)) {
    throw deployError(
      'NAME_INVALID',
      'name',
      `workload name ${quote(name)} is not a DNS-1123 label: lowercase letters, digits and '-', ` +
        `starting and ending with a letter or digit, at most ${MAX_WORKLOAD_NAME_LENGTH} characters`,
    );
  }
  return name;
}

/** A DNS-1123 label made from the repository's last path component ('workload' if none is left). */
export function deriveWorkloadName(repository: string): string {
  const last = repository.slice(repository.lastIndexOf('/') + 1);
  const label = last
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, MAX_WORKLOAD_NAME_LENGTH)
    .replace(/^-+|-+$/g, '');
  return label === '' ? 'workload' : validateWorkloadName(label);
}
