export { Batcher, type BatcherOptions } from './batcher';
export { canonicalJson } from './canonical-json';
export { isSha256Digest, sha256Digest, sha256Hex } from './digest';
export { DomainError, isDomainError } from './domain-error';
export { hasControlCharacter, isControlCharacter, replaceControlCharacters } from './text.util';
export { secureBuildVersion } from './version';
export { describeSchemaIssue } from './schema-issue';
