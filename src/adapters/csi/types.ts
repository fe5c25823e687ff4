// Request shapes of the CSI v1 Node calls, in proto-loader's camelCase form.
type StringMap = Record<string, string>;

export type AccessMode =
  | 'SINGLE_NODE_WRITER'
  | 'SINGLE_NODE_READER_ONLY'
  | 'MULTI_NODE_READER_ONLY'
  | 'MULTI_NODE_SINGLE_WRITER'
  | 'MULTI_NODE_MULTI_WRITER'
  | 'SINGLE_NODE_SINGLE_WRITER'
  | 'SINGLE_NODE_MULTI_WRITER';

/** Exactly one of mount / block. */
export type VolumeCapability =
  | { mount: { fsType?: string; mountFlags?: string[]; volumeMountGroup?: string }; block?: undefined; accessMode: { mode: AccessMode } }
  | { block: Record<string, never>; mount?: undefined; accessMode: { mode: AccessMode } };

export interface NodeStageVolumeRequest {
  volumeId: string;
  publishContext?: StringMap;
  stagingTargetPath: string;
  volumeCapability: VolumeCapability;
  /** secret contents: passed to the plugin only, never logged */
  secrets?: StringMap;
  volumeContext?: StringMap;
}

export interface NodeUnstageVolumeRequest {
  volumeId: string;
  stagingTargetPath: string;
}

export interface NodePublishVolumeRequest {
  volumeId: string;
  publishContext?: StringMap;
  /** set when the plugin has STAGE_UNSTAGE_VOLUME */
  stagingTargetPath?: string;
  targetPath: string;
  volumeCapability: VolumeCapability;
  readonly?: boolean;
  /** secret contents: passed to the plugin only, never logged */
  secrets?: StringMap;
  volumeContext?: StringMap;
}

export interface NodeUnpublishVolumeRequest {
  volumeId: string;
  targetPath: string;
}
