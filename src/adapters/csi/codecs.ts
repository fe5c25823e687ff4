// io-ts codecs for the CSI v1 Identity and Node responses the agent reads. Input is what
// proto-loader gives (see ../cri/proto.ts); enum values newer than our proto arrive as numbers
// and are kept as `UNKNOWN_<n>` rather than failing the whole response.
import * as t from 'io-ts';
import { Int64, mapped, StringMap } from '../cri/codecs.ts';

/** An enum name, or a number the proto does not know → UNKNOWN_<n>. */
/** A oneof member: proto-loader leaves the unset members out (not even null). */
const oneof = <C extends t.Mixed>(c: C) => t.union([t.null, t.undefined, c]);

const EnumName = mapped('enum', t.union([t.string, t.number]), (v) => (typeof v === 'number' ? `UNKNOWN_${v}` : v));

export const PluginInfo = t.strict({ name: t.string, vendorVersion: t.string, manifest: StringMap }, 'GetPluginInfoResponse');
export type PluginInfo = t.TypeOf<typeof PluginInfo>;

export interface PluginCapabilities {
  /** CONTROLLER_SERVICE, VOLUME_ACCESSIBILITY_CONSTRAINTS, GROUP_CONTROLLER_SERVICE, ... */
  services: string[];
  /** ONLINE / OFFLINE, when the plugin supports volume expansion */
  volumeExpansion: string[];
}

export const PluginCapabilities = mapped(
  'GetPluginCapabilitiesResponse',
  t.type({
    capabilities: t.array(
      t.type({
        service: oneof(t.type({ type: EnumName })),
        volumeExpansion: oneof(t.type({ type: EnumName })),
      }),
    ),
  }),
  (r): PluginCapabilities => ({
    services: r.capabilities.flatMap((c) => (c.service ? [c.service.type] : [])),
    volumeExpansion: r.capabilities.flatMap((c) => (c.volumeExpansion ? [c.volumeExpansion.type] : [])),
  }),
);

/** Probe: `ready` is a BoolValue; absent means "ready" per the CSI spec. */
export const ProbeResponse = mapped('ProbeResponse', t.type({ ready: t.union([t.null, t.type({ value: t.boolean })]) }), (r) => ({
  ready: r.ready === null ? true : r.ready.value,
}));
export type ProbeResult = t.TypeOf<typeof ProbeResponse>;

export interface NodeInfo {
  nodeId: string;
  /** 0 = no limit from the plugin */
  maxVolumesPerNode: number;
  /** topology segments the node is in (empty when the plugin reports none) */
  accessibleTopology: Record<string, string>;
}

export const NodeGetInfoResponse = mapped(
  'NodeGetInfoResponse',
  t.type({ nodeId: t.string, maxVolumesPerNode: Int64, accessibleTopology: t.union([t.null, t.type({ segments: StringMap })]) }),
  (r): NodeInfo => ({ nodeId: r.nodeId, maxVolumesPerNode: r.maxVolumesPerNode, accessibleTopology: r.accessibleTopology?.segments ?? {} }),
);

/** Node RPC capabilities: STAGE_UNSTAGE_VOLUME, GET_VOLUME_STATS, EXPAND_VOLUME, ... */
export const NodeGetCapabilitiesResponse = mapped(
  'NodeGetCapabilitiesResponse',
  t.type({ capabilities: t.array(t.type({ rpc: oneof(t.type({ type: EnumName })) })) }),
  (r): string[] => r.capabilities.flatMap((c) => (c.rpc ? [c.rpc.type] : [])),
);

export { EmptyResponse } from '../cri/codecs.ts';
