/** OCI content descriptor (image-spec descriptor.md), as serialized in manifests and indexes. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

/** Platform of an image, as carried by index descriptors and the config. */
export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

/** OCI image index (`index.json` of a layout). */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** OCI image manifest. */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** Runtime part of an OCI image config (`config.config`), with the spec's PascalCase keys. */
export interface ImageRuntimeConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
}

/** One `history[]` entry of an image config. */
export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** OCI image config blob. */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: ImageRuntimeConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
}

/** A layer as the manifest and config see it: stored blob identity plus its DiffID. */
export interface LayerDescriptor {
  /** Digest of the stored (compressed) blob, `sha256:<hex>`. */
  digest: string;
  /** Digest of the uncompressed tar, as listed in `rootfs.diff_ids`. */
  diffId: string;
  /** Size in bytes of the stored blob. */
  size: number;
  mediaType: string;
}
