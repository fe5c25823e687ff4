// Loads the CRI/CSI .proto files copied into gen/proto/ by scripts/gen-protos (never committed).
//
// Loader options are fixed for every gRPC adapter of the project:
//  - keepCase: false  → fields are lowerCamelCase on both sides (pod_sandbox_id → podSandboxId);
//  - longs: String    → 64-bit integers arrive as decimal strings so nanosecond timestamps keep
//                       every digit; the codecs turn them into numbers (sizes, counters) or
//                       RFC 3339 strings (timestamps). Requests may pass int64 fields as numbers;
//  - enums: String    → enum values are their names (CONTAINER_RUNNING); a value newer than the
//                       proto arrives as its number and the codecs reject or map it;
//  - defaults: true   → absent scalars/maps/lists arrive as ''/0/{}/[], absent messages as null;
//  - oneofs: true     → a oneof's set member name is also given as a virtual field.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

const here = dirname(fileURLToPath(import.meta.url));

/** Directory holding cri/api.proto and csi/csi.proto: $LEDGERLET_PROTO_DIR or <repo>/gen/proto. */
export function protoDir(): string {
  return process.env.LEDGERLET_PROTO_DIR ?? resolve(here, '../../../gen/proto');
}

export const CRI_PROTO = 'cri/api.proto';
export const CSI_PROTO = 'csi/csi.proto';

const cache = new Map<string, protoLoader.PackageDefinition>();

/** Load (once per process) one of the generated protos; a readable error says how to get it. */
export function loadProto(relative: string): protoLoader.PackageDefinition {
  const file = join(protoDir(), relative);
  const hit = cache.get(file);
  if (hit) return hit;
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: run scripts/gen-protos (or npm ci; it takes the CRI and CSI protos from their pinned Go module zips)`);
  }
  const def = protoLoader.loadSync(file, LOADER_OPTIONS);
  cache.set(file, def);
  return def;
}

/** A service's method table (path, serializers) from a loaded package definition. */
export function serviceDefinition(def: protoLoader.PackageDefinition, fullName: string): protoLoader.ServiceDefinition {
  const svc = def[fullName];
  if (!svc || !isServiceDefinition(svc)) throw new Error(`service ${fullName} is not in the loaded proto`);
  return svc;
}

function isServiceDefinition(v: protoLoader.AnyDefinition): v is protoLoader.ServiceDefinition {
  // Message and enum definitions carry a `format` field; service definitions are method maps.
  return !('format' in v);
}
