export { objectFormatOf, parseCommitSha } from './commit-sha';
export { parseGitRef } from './git-ref';
export type { ObjectFormat } from './commit-sha';
export { fetchPinnedCommit } from './fetch-pinned-commit';
export type { FetchPinnedCommitOptions, SourceCheckout, SubmoduleCheckout } from './fetch-pinned-commit';
export { parseRepositoryUrl, redactUrl, resolveSubmoduleUrl } from './repository-url';
export type { ParseRepositoryUrlOptions, RepositoryUrl } from './repository-url';
export { SourceError } from './source.error';
export type { SourceErrorCode } from './source.error';
export { verifyCommitReachable, REACHABILITY_REF } from './reachability';
export type { CommitReachability, VerifyCommitReachableOptions } from './reachability';
export { verifyCommitSignature } from './commit-signature/verify-commit-signature';
export type { VerifyCommitSignatureOptions } from './commit-signature/verify-commit-signature';
export { parseSignaturePolicy } from './commit-signature/signature-policy';
export type {
  CommitSignatureResult,
  NormalizedSignaturePolicy,
  SignaturePolicy,
} from './commit-signature/signature-policy';
export { ALLOWED_SSH_KEY_TYPES, parseAllowedSigners } from './commit-signature/allowed-signers';
export type { AllowedSigner } from './commit-signature/allowed-signers';
