// A two-way strategic-merge-patch generator for the few object shapes the agent patches
// (Node status, Pod status). Given the object as last read and the object as desired, it
// produces the patch the API server will merge, honouring the list merge keys of those types:
// keyed lists get changed items, `$patch: delete` for removed items and `$setElementOrder`;
// other lists are replaced whole; removed map keys become null.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

/** Per-field patch metadata, mirroring the patchMergeKey/patchStrategy tags of the Go types. */
export interface PatchSchema {
  [field: string]: PatchField;
}
export interface PatchField {
  /** patchStrategy=merge with this patchMergeKey (list of objects). */
  mergeKey?: string;
  /** Always send the whole list with a trailing {"$patch":"replace"} directive. */
  replaceList?: boolean;
  /** Schema of the nested object (or of each list item for keyed lists). */
  fields?: PatchSchema;
}

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** Drop undefined values (JSON has none) so comparisons and patches see what goes on the wire. */
export function toJson(v: unknown): Json {
  return v === undefined ? null : (JSON.parse(JSON.stringify(v)) as Json);
}

/**
 * Compute the patch that turns `original` into `modified`. Returns {} when nothing changed.
 */
export function twoWayMergePatch(original: unknown, modified: unknown, schema: PatchSchema = {}): JsonObject {
  const o = toJson(original ?? {});
  const m = toJson(modified ?? {});
  if (!isObject(o) || !isObject(m)) throw new TypeError('twoWayMergePatch: both sides must be objects');
  return diffObject(o, m, schema);
}

function diffObject(o: JsonObject, m: JsonObject, schema: PatchSchema): JsonObject {
  const patch: JsonObject = {};
  for (const [key, mv] of Object.entries(m)) {
    const ov = o[key];
    if (deepEqual(ov, mv)) continue;
    const field = schema[key];
    if (isObject(ov) && isObject(mv)) {
      const sub = diffObject(ov, mv, field?.fields ?? {});
      if (Object.keys(sub).length > 0) patch[key] = sub;
    } else if (Array.isArray(mv) && field?.replaceList) {
      patch[key] = [...mv, { $patch: 'replace' }];
    } else if (Array.isArray(mv) && field?.mergeKey && (ov === undefined || ov === null || Array.isArray(ov))) {
      const res = diffKeyedList(Array.isArray(ov) ? ov : [], mv, field.mergeKey, field.fields ?? {});
      if (res) {
        if (res.order) patch[`$setElementOrder/${key}`] = res.order;
        patch[key] = res.items;
      }
    } else {
      patch[key] = mv;
    }
  }
  for (const key of Object.keys(o)) {
    if (!(key in m) && o[key] !== null) patch[key] = null;
  }
  return patch;
}

function diffKeyedList(
  o: Json[],
  m: Json[],
  mergeKey: string,
  itemSchema: PatchSchema,
): { order?: Json[]; items: Json[] } | undefined {
  const keyOf = (item: Json): Json | undefined => (isObject(item) ? item[mergeKey] : undefined);
  // Items without the merge key cannot be merged: fall back to replacing the list.
  if (m.some((x) => keyOf(x) === undefined) || o.some((x) => keyOf(x) === undefined)) {
    return { items: [...m, { $patch: 'replace' }] };
  }
  const oldByKey = new Map(o.map((x) => [JSON.stringify(keyOf(x)), x]));
  const newKeys = new Set(m.map((x) => JSON.stringify(keyOf(x))));
  const items: Json[] = [];
  for (const item of m) {
    const prev = oldByKey.get(JSON.stringify(keyOf(item)));
    if (prev === undefined) items.push(item);
    else if (!deepEqual(prev, item)) {
      const sub = diffObject(prev as JsonObject, item as JsonObject, itemSchema);
      items.push({ [mergeKey]: keyOf(item) as Json, ...sub });
    }
  }
  for (const item of o) {
    const k = keyOf(item) as Json;
    if (!newKeys.has(JSON.stringify(k))) items.push({ [mergeKey]: k, $patch: 'delete' });
  }
  const sameOrder = o.length === m.length && o.every((x, i) => deepEqual(keyOf(x), keyOf(m[i] as Json)));
  if (items.length === 0 && sameOrder) return undefined;
  return { order: m.map((x) => ({ [mergeKey]: keyOf(x) as Json })), items };
}

/** Merge keys of v1.PodStatus (k8s.io/api/core/v1 types.go tags). */
export const POD_STATUS_SCHEMA: PatchSchema = {
  conditions: { mergeKey: 'type' },
  podIPs: { mergeKey: 'ip' },
  hostIPs: { mergeKey: 'ip' },
  resourceClaimStatuses: { mergeKey: 'name' },
};

/** Merge keys of v1.NodeStatus. Addresses are tagged merge-by-type upstream, which is wrong
 *  for several addresses of one type, so the kubelet replaces the list; so do we. */
export const NODE_STATUS_SCHEMA: PatchSchema = {
  conditions: { mergeKey: 'type' },
  addresses: { replaceList: true },
};

export const NODE_SCHEMA: PatchSchema = {
  status: { fields: NODE_STATUS_SCHEMA },
};

export const POD_SCHEMA: PatchSchema = {
  status: { fields: POD_STATUS_SCHEMA },
};
