// Entry codec: stored bytes round-trip, older schema versions are upgraded, and bad bytes become
// readable errors naming the seq.
import { expect } from 'chai';
import fc from 'fast-check';
import { decodeEntry, encodeEntry } from '../../src/model/entry-codec.ts';
import { SCHEMA_VERSION, type Entry } from '../../src/model/entry.ts';
import { upgradeEntry } from '../../src/model/upgrade.ts';

const entry: Entry = {
  v: SCHEMA_VERSION,
  seq: 7,
  at: '2024-05-01T10:00:00.123Z',
  kind: 'decision',
  type: 'ContainerStartRequested',
  source: 'engine',
  cause: 6,
  pod: { uid: 'u1', namespace: 'default', name: 'web' },
  reason: 'PodAdded',
  data: { container: 'nginx', attempt: 1 },
};

describe('entry codec', () => {
  it('given an entry, when encoded and decoded, then it is unchanged', () => {
    const r = decodeEntry(encodeEntry(entry), 7);
    expect(r).to.deep.equal({ ok: true, entry });
  });

  it('given the same entry with fields in another order, when encoded, then the bytes are identical', () => {
    const shuffled = { data: entry.data, reason: entry.reason, pod: entry.pod, cause: entry.cause, source: entry.source, type: entry.type, kind: entry.kind, at: entry.at, seq: entry.seq, v: entry.v };
    expect(encodeEntry(shuffled)).to.equal(encodeEntry(entry));
  });

  it('given an entry written before entries carried a schema version, when decoded, then it is upgraded to the current version', () => {
    const old = JSON.stringify({ seq: 3, at: '2024-05-01T10:00:00.5Z', kind: 'observation', type: 'PodSpecObserved', source: 'apiserver', data: { rv: '12' } });
    const r = decodeEntry(old, 3);
    expect(r.ok).to.equal(true);
    if (r.ok) {
      expect(r.entry.v).to.equal(SCHEMA_VERSION);
      expect(r.entry.type).to.equal('PodSpecObserved');
      expect(r.entry.data).to.deep.equal({ rv: '12' });
    }
  });

  it('given an entry from a newer ledgerlet, when decoded, then the error says so', () => {
    const r = decodeEntry(JSON.stringify({ ...entry, v: SCHEMA_VERSION + 1 }), 7);
    expect(r).to.deep.include({ ok: false, seq: 7 });
    if (!r.ok) expect(r.error).to.match(/newer ledgerlet/);
  });

  it('given an upgrade chain with a missing step, when upgrading, then the error names the version', () => {
    const r = upgradeEntry({ v: 1, seq: 1 }, {}, 3);
    expect(r).to.deep.equal({ ok: false, error: 'no upgrade from schema 1 to 2' });
  });

  it('given truncated bytes, when decoded, then the error names the seq and says it is not JSON', () => {
    const r = decodeEntry(encodeEntry(entry).slice(0, 30), 7);
    expect(r.ok).to.equal(false);
    if (!r.ok) {
      expect(r.seq).to.equal(7);
      expect(r.error).to.match(/not valid JSON/);
    }
  });

  it('given an entry with a missing field, when decoded, then the error names the field', () => {
    const { kind: _k, ...rest } = entry;
    const r = decodeEntry(JSON.stringify(rest), 7);
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.error).to.match(/kind/);
  });

  it('given an entry stored under another seq, when decoded, then the mismatch is reported', () => {
    const r = decodeEntry(encodeEntry(entry), 8);
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.error).to.match(/stored under seq 8 but says seq 7/);
  });

  it('given a time without sub-second precision, when decoded, then it is rejected', () => {
    const r = decodeEntry(encodeEntry({ ...entry, at: '2024-05-01T10:00:00Z' }), 7);
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.error).to.match(/RFC 3339/);
  });

  it('given a pod ref without a uid, when decoded, then it is rejected', () => {
    const r = decodeEntry(JSON.stringify({ ...entry, pod: { namespace: 'a', name: 'b' } }), 7);
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.error).to.match(/pod\.uid/);
  });

  it('given any entry, including strings that need escaping, when encoded, then the bytes equal JSON.stringify of the fields in stored order', () => {
    const text = fc.string({ unit: 'binary' });
    const arbEntry = fc.record(
      {
        v: fc.integer(), seq: fc.integer({ min: 1 }), at: fc.oneof(text, fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
        kind: fc.constantFrom('observation', 'decision', 'outcome'), type: text, source: text, cause: fc.integer({ min: 0 }),
        pod: fc.record({ uid: text, namespace: text, name: text }), reason: text, data: fc.jsonValue(),
      },
      { requiredKeys: ['v', 'seq', 'at', 'kind', 'type', 'source', 'data'] },
    );
    fc.assert(fc.property(arbEntry, (e) => {
      const { v, seq, at, kind, type, source, cause, pod, reason, data } = e as Entry;
      const reference = JSON.stringify({ v, seq, at, kind, type, source, cause, pod: pod && { uid: pod.uid, namespace: pod.namespace, name: pod.name }, reason, data });
      expect(encodeEntry(e as Entry)).to.equal(reference);
    }), { numRuns: 500 });
  });
});
