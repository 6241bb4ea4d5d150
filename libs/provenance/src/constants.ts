// Persistent identifiers: bundles already issued carry these values. Do not change without a
// migration plan for verifiers (add a new version instead).

/** in-toto Statement v1 `_type`. */
export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** DSSE payload type for in-toto statements. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** SLSA Provenance v1 predicate type. */
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** Our build type; docs/provenance.md documents its parameters. */
export const SECURE_BUILD_BUILD_TYPE = 'https://securebuild.dev/buildtypes/tee-git/v1';
/** Media type of the Sigstore bundles we emit. */
export const SIGSTORE_BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** TEE kinds a builder can run in; each has its own builder.id (SLSA: different modes, different ids). */
export type BuilderTee = 'tdx' | 'ibm-se' | 'simulated-tdx' | 'simulated-ibm-se';

/** builder.id per TEE kind. The simulator has its own id so it can never pass for hardware. */
export const BUILDER_IDS: Readonly<Record<BuilderTee, string>> = {
  tdx: 'https://securebuild.dev/builders/tdx/v1',
  'ibm-se': 'https://securebuild.dev/builders/ibm-se/v1',
  'simulated-tdx': 'https://securebuild.dev/builders/simulated-tdx/v1',
  'simulated-ibm-se': 'https://securebuild.dev/builders/simulated-ibm-se/v1',
};

/** Names of the byproducts an auditor relies on. */
export const BYPRODUCT = {
  signingKey: 'signing-key',
  teeEvidence: 'tee-evidence',
  image: 'oci-image',
  reproducibility: 'reproducibility',
  buildLog: 'build.log',
} as const;

/** Byproduct holding the optional per-build quote that binds the statement itself. */
export const BYPRODUCT_BUILD_EVIDENCE = 'tee-evidence-build';
