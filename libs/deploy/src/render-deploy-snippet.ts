import { stringify } from 'yaml';

import { cocoNotes, cocoPod, type CocoTee } from './coco-pod';
import { deployError, quote } from './deploy.error';
import { hpvsNotes, hpvsWorkload } from './hpvs-workload';
import { parseImageReference } from './image-reference';
import { provenanceAnnotations, type SnippetProvenance } from './provenance-annotations';
import { deriveWorkloadName, validateWorkloadName } from './workload-name';

/** Where a verified image is deployed: an IBM HPVS contract, or a Confidential Containers Pod. */
export type DeployTarget = 'hpvs' | 'coco';

/** Input of {@link renderDeploySnippet}; the CLI passes user input through unchanged. */
export interface DeploySnippetInput {
  /** `registry/repository@sha256:<64 hex>`; tags are refused. */
  image: string;
  target: DeployTarget;
  /** CoCo only: `tdx` (default, kata-qemu-tdx) or `se` (kata-qemu-se). HPVS is always SE. */
  tee?: CocoTee;
  /** DNS-1123 label; default derived from the repository's last path component. */
  name?: string;
  /** Verified provenance recorded as `securebuild.dev/` annotations. */
  provenance?: SnippetProvenance;
}

/** A rendered, deterministic YAML document for one target. */
export interface DeploySnippet {
  text: string;
  mediaType: 'application/yaml';
  target: DeployTarget;
}

/**
 * Renders the deployment snippet for an image that was verified by digest. Same input, same bytes:
 * keys are in a fixed order, so a reviewer can diff snippets. Throws DeployError on any bad input.
 */
export function renderDeploySnippet(input: DeploySnippetInput): DeploySnippet {
  const target = checkTarget(input.target);
  const tee = checkTee(target, input.tee);
  const image = parseImageReference(input.image);
  const name = input.name === undefined ? deriveWorkloadName(image.repository) : validateWorkloadName(input.name);
  const annotations = provenanceAnnotations(image.digest, input.provenance);
  const parts =
    target === 'coco'
      ? { notes: cocoNotes({ image, name, tee, annotations }), body: cocoPod({ image, name, tee, annotations }) }
      : { notes: hpvsNotes({ image, name, annotations }), body: hpvsWorkload({ image, name, annotations }) };
  // lineWidth 0: never fold long values (digests, URLs) across lines.
  const yaml = stringify(parts.body, { lineWidth: 0 });
  return {
    text: `${parts.notes.map((line) => `# ${line}`).join('\n')}\n${yaml}`,
    mediaType: 'application/yaml',
    target,
  };
}

function checkTarget(target: unknown): DeployTarget {
  if (target === 'hpvs' || target === 'coco') return target;
  throw deployError(
    'TARGET_UNSUPPORTED',
    'target',
    `deploy target ${typeof target === 'string' ? quote(target) : String(target)} is not supported: use hpvs or coco`,
  );
}

function checkTee(target: DeployTarget, tee: unknown): CocoTee {
  if (tee !== undefined && tee !== 'tdx' && tee !== 'se') {
    throw deployError(
      'TEE_UNSUPPORTED',
      'tee',
      `TEE ${typeof tee === 'string' ? quote(tee) : String(tee)} is not supported: use tdx or se`,
    );
  }
  if (target === 'hpvs' && tee === 'tdx') {
    throw deployError('TEE_UNSUPPORTED', 'tee', 'HPVS runs only on IBM Secure Execution: tee tdx applies to coco');
  }
  return tee ?? (target === 'hpvs' ? 'se' : 'tdx');
}
