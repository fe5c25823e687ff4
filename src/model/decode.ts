// Turns io-ts failures into sentences an operator can act on ("spec.containers[0].image: expected string").
import * as t from 'io-ts';
import { isLeft, type Either, left, right } from 'fp-ts/lib/Either.js';

export function describeErrors(errors: t.Errors): string[] {
  const out = new Set<string>();
  for (const e of errors) {
    let path = '';
    for (let i = 1; i < e.context.length; i++) {
      const parent = (e.context[i - 1].type as { _tag?: string })._tag;
      const key = e.context[i].key;
      // Intersection and union members add context levels (keyed by member index) that are not fields.
      if (['IntersectionType', 'UnionType', 'ExactType'].includes(parent ?? '') && /^\d+$/.test(key)) continue;
      if (parent === 'ArrayType' || parent === 'ReadonlyArrayType') path += `[${key}]`;
      else path += path ? `.${key}` : key;
    }
    const last = e.context[e.context.length - 1];
    const expected = last?.type.name ?? 'valid value';
    const got = e.value === undefined ? 'nothing' : JSON.stringify(e.value)?.slice(0, 60);
    out.add(`${path || "(root)"}: ${e.message ?? `expected ${expected}, got ${got}`}`);
  }
  return [...out];
}

/** Decode with a readable error list instead of io-ts' raw context chains. */
export function decodeWith<A>(codec: t.Decoder<unknown, A>, raw: unknown): Either<string[], A> {
  const r = codec.decode(raw);
  return isLeft(r) ? left(describeErrors(r.left)) : right(r.right);
}

/** A strict object codec: required + optional fields; unknown fields are stripped on decode. */
export function obj<R extends t.Props, O extends t.Props>(name: string, required: R, optional: O) {
  return t.exact(t.intersection([t.type(required), t.partial(optional)]), name);
}
