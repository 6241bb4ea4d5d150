import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { DeployError } from './deploy.error';
import { renderDeploySnippet, type DeploySnippetInput } from './render-deploy-snippet';

const DIGEST = `sha256:${'3f'.repeat(32)}`;
const IMAGE = `registry.example.com:5000/org/wallet_signer@${DIGEST}`;
const PROVENANCE = {
  buildId: '0b6f0c1e-5d5a-4a57-9a53-2a4f7b0d3c11',
  // All digits: must stay a string after a YAML round trip.
  commit: '1234567890123456789012345678901234567890',
  sourceRepository: 'https://git.example.com/org/wallet.git#main',
  bundleDigest: `sha256:${'b'.repeat(64)}`,
};
const ANNOTATIONS = {
  'securebuild.dev/build-id': PROVENANCE.buildId,
  'securebuild.dev/bundle-digest': PROVENANCE.bundleDigest,
  'securebuild.dev/image-digest': DIGEST,
  'securebuild.dev/source-commit': PROVENANCE.commit,
  'securebuild.dev/source-repository': PROVENANCE.sourceRepository,
};

/** Every `image:` value anywhere in a parsed document. */
function imagesIn(node: unknown): unknown[] {
  if (Array.isArray(node)) return node.flatMap(imagesIn);
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node).flatMap(([key, value]) => (key === 'image' ? [value] : imagesIn(value)));
}

function refusal(input: Partial<DeploySnippetInput>): DeployError {
  try {
    renderDeploySnippet(input as DeploySnippetInput);
  } catch (error) {
    expect(error).toBeInstanceOf(DeployError);
    return error as DeployError;
  }
  throw new Error('accepted');
}

describe('renderDeploySnippet', () => {
  describe('coco', () => {
    it('renders a Pod with the TDX runtime class, the digest-pinned image and provenance annotations', () => {
      const snippet = renderDeploySnippet({ image: IMAGE, target: 'coco', provenance: PROVENANCE });
      expect(snippet.mediaType).toBe('application/yaml');
      expect(snippet.target).toBe('coco');
      expect(parse(snippet.text)).toEqual({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: 'wallet-signer',
          labels: { 'app.kubernetes.io/name': 'wallet-signer' },
          annotations: ANNOTATIONS,
        },
        spec: {
          runtimeClassName: 'kata-qemu-tdx',
          automountServiceAccountToken: false,
          containers: [
            {
              name: 'wallet-signer',
              image: IMAGE,
              imagePullPolicy: 'Always',
              securityContext: { allowPrivilegeEscalation: false },
            },
          ],
        },
      });
      expect(imagesIn(parse(snippet.text))).toEqual([IMAGE]);
    });

    it('uses kata-qemu-se for tee se, and the given name', () => {
      const pod = parse(renderDeploySnippet({ image: IMAGE, target: 'coco', tee: 'se', name: 'signer-2' }).text);
      expect(pod.spec.runtimeClassName).toBe('kata-qemu-se');
      expect(pod.metadata.name).toBe('signer-2');
      expect(pod.spec.containers[0].name).toBe('signer-2');
      expect(pod.metadata.annotations).toEqual({ 'securebuild.dev/image-digest': DIGEST });
    });

    it('keeps the image-signature and policy notes in comments only', () => {
      const { text } = renderDeploySnippet({ image: IMAGE, target: 'coco' });
      const comments = text.split('\n').filter((line) => line.startsWith('#'));
      expect(comments.join('\n')).toMatch(/image policy/);
      expect(comments.join('\n')).toMatch(/genpolicy/);
      expect(text.split('\n').findIndex((line) => !line.startsWith('#'))).toBe(comments.length);
    });
  });

  describe('hpvs', () => {
    it('renders a contract workload section with a play Pod and the digest-pinned image', () => {
      const snippet = renderDeploySnippet({ image: IMAGE, target: 'hpvs', provenance: PROVENANCE });
      expect(snippet.target).toBe('hpvs');
      const workload = parse(snippet.text);
      expect(workload).toEqual({
        type: 'workload',
        play: {
          resources: [
            {
              apiVersion: 'v1',
              kind: 'Pod',
              metadata: { name: 'wallet-signer', annotations: ANNOTATIONS },
              spec: {
                containers: [
                  {
                    name: 'wallet-signer',
                    image: IMAGE,
                    envFrom: [{ configMapRef: { name: 'contract.config.map', optional: true } }],
                  },
                ],
                restartPolicy: 'Always',
              },
            },
          ],
        },
      });
      expect(imagesIn(workload)).toEqual([IMAGE]);
      expect(snippet.text).toContain('auths');
      expect(snippet.text).toContain('registry.example.com:5000');
    });

    it('accepts tee se (HPVS is always SE)', () => {
      expect(renderDeploySnippet({ image: IMAGE, target: 'hpvs', tee: 'se' }).text).toBe(
        renderDeploySnippet({ image: IMAGE, target: 'hpvs' }).text,
      );
    });
  });

  it('is deterministic: the same input gives the same bytes whatever the provenance key order', () => {
    const reversed = Object.fromEntries(Object.entries(PROVENANCE).reverse());
    for (const target of ['coco', 'hpvs'] as const) {
      const a = renderDeploySnippet({ image: IMAGE, target, provenance: PROVENANCE }).text;
      const b = renderDeploySnippet({ image: IMAGE, target, provenance: reversed }).text;
      expect(a).toBe(b);
    }
  });

  it('never folds long values across lines', () => {
    const long = `registry.example.com/${'a'.repeat(200)}@${DIGEST}`;
    const { text } = renderDeploySnippet({ image: long, target: 'coco', name: 'app' });
    expect(text.split('\n')).toContain(`      image: ${long}`);
  });

  it.each([
    ['an unknown target', { image: IMAGE, target: 'k8s' }, 'TARGET_UNSUPPORTED', /"k8s" is not supported/],
    ['a missing target', { image: IMAGE }, 'TARGET_UNSUPPORTED', /undefined is not supported/],
    ['an unknown tee', { image: IMAGE, target: 'coco', tee: 'sev' }, 'TEE_UNSUPPORTED', /"sev" is not supported/],
    ['tdx on hpvs', { image: IMAGE, target: 'hpvs', tee: 'tdx' }, 'TEE_UNSUPPORTED', /only on IBM Secure Execution/],
    [
      'a tag',
      { image: 'registry.example.com/app:1.0', target: 'coco' },
      'IMAGE_REFERENCE_INVALID',
      /must not carry a tag/,
    ],
    [
      'YAML smuggled in the image',
      { image: `registry.example.com/app@${DIGEST}\n    privileged: true`, target: 'hpvs' },
      'IMAGE_REFERENCE_INVALID',
      /whitespace or control characters/,
    ],
    ['a bad name', { image: IMAGE, target: 'coco', name: 'Wallet' }, 'NAME_INVALID', /not a DNS-1123 label/],
    [
      'bad provenance',
      { image: IMAGE, target: 'hpvs', provenance: { commit: 'main' } },
      'PROVENANCE_INVALID',
      /not a full commit SHA/,
    ],
  ])('refuses %s', (_case, input, code, message) => {
    const error = refusal(input as Partial<DeploySnippetInput>);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });
});
