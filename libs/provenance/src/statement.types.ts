/** in-toto DigestSet: lower-case algorithm names to lower-case hex (plus gitCommit, gitTree). */
export type DigestSet = Record<string, string>;

/** in-toto ResourceDescriptor v1; at least one of uri, digest or content is set. */
export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: DigestSet;
  /** base64 of the raw bytes */
  content?: string;
  downloadLocation?: string;
  mediaType?: string;
  annotations?: Record<string, unknown>;
}

/** in-toto Statement v1 with a typed predicate. */
export interface Statement<P> {
  _type: string;
  subject: ResourceDescriptor[];
  predicateType: string;
  predicate: P;
}

/** SLSA Provenance v1 predicate. */
export interface SlsaProvenanceV1 {
  buildDefinition: {
    buildType: string;
    externalParameters: Record<string, unknown>;
    internalParameters?: Record<string, unknown>;
    resolvedDependencies?: ResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string; version?: Record<string, string>; builderDependencies?: ResourceDescriptor[] };
    metadata?: { invocationId?: string; startedOn?: string; finishedOn?: string };
    byproducts?: ResourceDescriptor[];
  };
}

/** The statements this project emits. */
export type ProvenanceStatement = Statement<SlsaProvenanceV1>;
