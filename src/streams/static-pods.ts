// Static pods: the manifest directory (staticPodPath / --pod-manifest-path) as a source.
//
// As upstream (pkg/kubelet/config/file.go): the path is re-read every `resyncMs` (the kubelet's
// fileCheckFrequency, 20 s) and, in between, on directory change notifications (fs.watch, the
// inotify of file_linux.go). The path may be a directory or a single manifest file. In a
// directory, names starting with '.' are ignored (upstream globs `[^.]*`), subdirectories are not
// recursed into, and — unlike upstream, which tries every other file — only .yaml/.yml/.json
// files are read, so editor backups and READMEs next to the manifests are not rejected each scan.
//
// Each scan rebuilds the full set of valid static pods (as upstream's store.Replace) and only the
// DIFFERENCE with the previous scan becomes observations (contract: src/model/runtime-observations.ts):
//   StaticPodRemoved {uid, file}        a pod whose uid is no longer produced by any file: the file
//                                       was deleted, became invalid (dropped at the next periodic
//                                       resync, as upstream; a scan prompted by a change notification
//                                       keeps it, since the file may be half written), or was edited
//                                       (a new uid: upstream treats it as a new pod). Removals come
//                                       before the observations of a scan.
//   PodObserved {pod, origin, file}     a new uid, or a known uid whose manifest changed (only when
//                                       the manifest sets metadata.uid itself).
//   ManifestRejected {file, problems}   once per distinct (file, content): keyed by the content's
//                                       sha256 (size and mtime for a file over the size limit, which
//                                       is not read); its problems depend only on that content.
//   StaticPodsListed {uids}             after the first complete scan, then after each scan that
//                                       removed or observed a pod.
//   StaticPodPathUnreadable {dir, error} once per distinct error; a missing path counts as an
//                                       empty one (upstream sends an empty set), other errors keep
//                                       the pods known so far. The source keeps polling.
// Two files defining the same pod (namespace/name or uid): the file that already holds it keeps
// it (else the first in name order); the other is rejected.
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, extname, join } from 'node:path';
import { Observable } from 'rxjs';
import { isLeft } from 'fp-ts/lib/Either.js';
import type { ObservationDraft, PodRef } from '../model/entry.ts';
import type { Pod } from '../model/pod.ts';
import type { Clock } from '../runtime/clock.ts';
import { MANIFEST_EXTENSIONS, staticPodFromManifest, type StaticPod } from './static-pod-identity.ts';

export const STATIC_PODS_SOURCE = 'static-pods';

/** Manifests larger than this are rejected without parsing (upstream has no limit; a pod is KBs). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface StaticPodsOptions {
  /** staticPodPath: a directory of manifests or one manifest file */
  dir: string;
  nodeName: string;
  clock: Clock;
  /** fileCheckFrequency in ms (upstream default 20 s) */
  resyncMs?: number;
  /** also rescan on fs.watch notifications (default true) */
  watch?: boolean;
  /** coalesce bursts of change notifications (an editor's write+rename) into one scan; real time */
  watchDebounceMs?: number;
}

export interface StaticPodPathUnreadable {
  dir: string;
  error: string;
}

interface Known {
  uid: string;
  file: string;
  digest: string;
  ref: PodRef;
}

type FileResult =
  | { file: string; kind: 'pod'; sp: StaticPod }
  | { file: string; kind: 'rejected'; problems: string[]; contentKey: string }
  | { file: string; kind: 'gone' };

type ListResult = { ok: true; files: string[] } | { ok: false; error: string; missing: boolean };

const draft = <D>(type: string, data: D, pod?: PodRef): ObservationDraft<D> =>
  pod ? { type, source: STATIC_PODS_SOURCE, data, pod } : { type, source: STATIC_PODS_SOURCE, data };

const refOf = (pod: Pod): PodRef => ({ uid: pod.metadata.uid ?? '', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name });

const errText = (e: unknown): string => {
  const err = e as NodeJS.ErrnoException;
  return err && typeof err === 'object' && err.code ? `${err.code}: ${err.message}` : e instanceof Error ? e.message : String(e);
};

function isManifestName(name: string): boolean {
  return !name.startsWith('.') && (MANIFEST_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());
}

/** The scanning state machine, separate from the Observable plumbing so each scan is one call. */
export class StaticPodScanner {
  private known = new Map<string, Known>();
  private rejected = new Map<string, { key: string; problems: string[] }>();
  private unreadable: string | undefined;
  private listed = false;
  private readonly path: string;

  constructor(private readonly opts: { dir: string; nodeName: string; clock: Clock }) {
    // upstream trims trailing separators; join() below normalises the rest
    this.path = opts.dir.length > 1 ? opts.dir.replace(/\/+$/, '') : opts.dir;
  }

  /** The uids currently produced by the manifests. */
  uids(): string[] {
    return [...this.known.keys()].sort();
  }

  private async list(): Promise<ListResult> {
    let st;
    try {
      st = await stat(this.path);
    } catch (e) {
      return { ok: false, error: errText(e), missing: (e as NodeJS.ErrnoException).code === 'ENOENT' };
    }
    if (st.isFile()) return { ok: true, files: [this.path] };
    if (!st.isDirectory()) return { ok: false, error: 'path is not a directory or a regular file', missing: false };
    let names: string[];
    try {
      names = await readdir(this.path);
    } catch (e) {
      return { ok: false, error: errText(e), missing: (e as NodeJS.ErrnoException).code === 'ENOENT' };
    }
    const files: string[] = [];
    for (const name of names.filter(isManifestName).sort()) {
      const file = join(this.path, name);
      try {
        const s = await stat(file); // follows symlinks, as upstream's os.Stat
        if (s.isFile()) files.push(file);
      } catch {
        // vanished between readdir and stat, or a dangling symlink: nothing to read
      }
    }
    return { ok: true, files };
  }

  private async readOne(file: string, seenAt: Date): Promise<FileResult> {
    let buf: Buffer;
    try {
      const s = await stat(file);
      if (s.size > MAX_MANIFEST_BYTES) {
        return { file, kind: 'rejected', problems: [`manifest is ${s.size} bytes; the limit is ${MAX_MANIFEST_BYTES}`], contentKey: `size:${s.size}:${s.mtimeMs}` };
      }
      buf = await readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { file, kind: 'gone' };
      return { file, kind: 'rejected', problems: [`cannot read: ${errText(e)}`], contentKey: `error:${errText(e)}` };
    }
    const contentKey = createHash('sha256').update(buf).digest('hex');
    // An unchanged rejected file is not parsed again: a hostile one may be slow to parse.
    const before = this.rejected.get(file);
    if (before?.key === contentKey) return { file, kind: 'rejected', problems: before.problems, contentKey };
    const r = staticPodFromManifest(buf.toString('utf8'), file, this.opts.nodeName, seenAt);
    if (isLeft(r)) return { file, kind: 'rejected', problems: r.left, contentKey };
    return { file, kind: 'pod', sp: r.right };
  }

  /**
   * Read the path once and return the observations of what changed since the previous scan.
   * `notify`: a scan prompted by a change notification. As upstream's inotify path, a manifest
   * that no longer parses then keeps its running pod (it may be half written); the next periodic
   * resync drops it, as upstream's resync does.
   */
  async scan(reason: 'resync' | 'notify' = 'resync'): Promise<ObservationDraft[]> {
    const out: ObservationDraft[] = [];
    const listing = await this.list();
    let files: string[];
    if (!listing.ok) {
      if (this.unreadable !== listing.error) {
        this.unreadable = listing.error;
        out.push(draft<StaticPodPathUnreadable>('StaticPodPathUnreadable', { dir: this.opts.dir, error: listing.error }));
      }
      if (!listing.missing) return out; // keep what we know; try again next time
      files = [];
    } else {
      this.unreadable = undefined;
      files = listing.files;
    }

    const seenAt = this.opts.clock.now();
    const results: FileResult[] = [];
    for (const f of files) results.push(await this.readOne(f, seenAt));

    // Conflicts: the file already holding a pod keeps it, then name order decides.
    const prevOwner = new Map<string, string>(); // uid or ns/name -> file
    for (const k of this.known.values()) {
      prevOwner.set(`uid:${k.uid}`, k.file);
      prevOwner.set(`name:${k.ref.namespace}/${k.ref.name}`, k.file);
    }
    const pods = results.filter((r): r is Extract<FileResult, { kind: 'pod' }> => r.kind === 'pod');
    const ordered = [...pods].sort((a, b) => {
      const aPrev = prevOwner.get(`uid:${a.sp.uid}`) === a.file || prevOwner.get(`name:${refOf(a.sp.pod).namespace}/${refOf(a.sp.pod).name}`) === a.file;
      const bPrev = prevOwner.get(`uid:${b.sp.uid}`) === b.file || prevOwner.get(`name:${refOf(b.sp.pod).namespace}/${refOf(b.sp.pod).name}`) === b.file;
      if (aPrev !== bPrev) return aPrev ? -1 : 1;
      return a.file < b.file ? -1 : a.file > b.file ? 1 : 0;
    });
    const next = new Map<string, Known & { sp?: StaticPod }>();
    const byName = new Map<string, string>();
    const rejections: Extract<FileResult, { kind: 'rejected' }>[] = results.filter(
      (r): r is Extract<FileResult, { kind: 'rejected' }> => r.kind === 'rejected',
    );
    if (reason === 'notify') {
      const rejectedFiles = new Set(rejections.map((r) => r.file));
      for (const k of this.known.values()) {
        if (!rejectedFiles.has(k.file)) continue;
        next.set(k.uid, { ...k });
        byName.set(`${k.ref.namespace}/${k.ref.name}`, k.uid);
      }
    }
    for (const r of ordered) {
      const ref = refOf(r.sp.pod);
      const nameKey = `${ref.namespace}/${ref.name}`;
      const clashUid = next.get(r.sp.uid);
      const clashName = byName.get(nameKey);
      if (clashUid || clashName) {
        const other = clashUid ? clashUid.file : next.get(clashName!)!.file;
        rejections.push({
          file: r.file,
          kind: 'rejected',
          problems: [clashUid ? `metadata.uid ${r.sp.uid}: already used by the pod of ${other}` : `pod ${nameKey}: already defined by ${other}`],
          contentKey: `${r.sp.digest}:conflict:${other}`,
        });
        continue;
      }
      next.set(r.sp.uid, { uid: r.sp.uid, file: r.file, digest: r.sp.digest, ref, sp: r.sp });
      byName.set(nameKey, r.sp.uid);
    }

    let changed = false;
    for (const [uid, k] of [...this.known].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (next.has(uid)) continue;
      out.push(draft('StaticPodRemoved', { uid, file: k.file }, k.ref));
      changed = true;
    }
    for (const n of [...next.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))) {
      const old = this.known.get(n.uid);
      if (!n.sp || (old && old.digest === n.digest && old.file === n.file)) continue;
      out.push(draft('PodObserved', { pod: n.sp.pod, origin: 'file' as const, file: n.file }, n.ref));
      changed = true;
    }
    this.known = new Map([...next].map(([uid, { sp: _sp, ...k }]) => [uid, k]));

    const stillRejected = new Map<string, { key: string; problems: string[] }>();
    for (const r of rejections.sort((a, b) => (a.file < b.file ? -1 : 1))) {
      // Keyed by what the file holds, not by the message: an unchanged bad file is reported once.
      const key = r.contentKey;
      stillRejected.set(r.file, { key, problems: r.problems });
      if (this.rejected.get(r.file)?.key !== key) out.push(draft('ManifestRejected', { file: r.file, problems: r.problems }));
    }
    this.rejected = stillRejected;

    if (changed || !this.listed) {
      this.listed = true;
      out.push(draft('StaticPodsListed', { uids: this.uids() }));
    }
    return out;
  }

  /** What fs.watch should watch: the directory itself, or a single file's directory. */
  async watchTarget(): Promise<string | undefined> {
    try {
      const st = await stat(this.path);
      return st.isDirectory() ? this.path : dirname(this.path);
    } catch {
      return undefined;
    }
  }
}

/**
 * The static pod source. Never errors: unreadable paths and bad manifests become observations.
 * Unsubscribing stops the polling and the watcher.
 */
export function staticPods$(opts: StaticPodsOptions): Observable<ObservationDraft> {
  const { clock, resyncMs = 20_000, watch = true, watchDebounceMs = 100 } = opts;
  return new Observable<ObservationDraft>((subscriber) => {
    const scanner = new StaticPodScanner(opts);
    const stop = new AbortController();
    let wake: AbortController | undefined;
    let dirty = false;
    let watcher: FSWatcher | undefined;
    let watchedPath: string | undefined;
    let debounce: NodeJS.Timeout | undefined;

    const trigger = () => {
      if (debounce) return;
      debounce = setTimeout(() => {
        debounce = undefined;
        dirty = true;
        wake?.abort();
      }, watchDebounceMs);
    };
    const closeWatcher = () => {
      try {
        watcher?.close();
      } catch {
        // already closed
      }
      watcher = undefined;
      watchedPath = undefined;
    };
    const ensureWatch = async () => {
      if (!watch || stop.signal.aborted) return;
      const target = await scanner.watchTarget();
      if (target === watchedPath && watcher) return;
      closeWatcher();
      if (!target || stop.signal.aborted) return;
      try {
        const w = fsWatch(target, { persistent: false }, () => trigger());
        w.on('error', () => {
          // the directory went away (or the watch broke): fall back to polling until the next scan re-arms it
          if (watcher === w) closeWatcher();
          trigger();
        });
        watcher = w;
        watchedPath = target;
      } catch {
        // cannot watch (ENOSPC for inotify watches, permissions): the periodic scan still runs
      }
    };

    void (async () => {
      let reason: 'resync' | 'notify' = 'resync';
      while (!stop.signal.aborted) {
        dirty = false;
        let drafts: ObservationDraft[];
        try {
          drafts = await scanner.scan(reason);
        } catch (e) {
          drafts = [draft<StaticPodPathUnreadable>('StaticPodPathUnreadable', { dir: opts.dir, error: errText(e) })];
        }
        for (const d of drafts) {
          if (stop.signal.aborted) return;
          subscriber.next(d);
        }
        await ensureWatch().catch(() => undefined);
        if (stop.signal.aborted) return;
        if (dirty) {
          reason = 'notify';
          continue;
        }
        wake = new AbortController();
        const w = wake;
        const onStop = () => w.abort();
        stop.signal.addEventListener('abort', onStop, { once: true });
        try {
          await clock.sleep(resyncMs, w.signal);
        } catch {
          // woken by a change notification or by unsubscribe
        } finally {
          stop.signal.removeEventListener('abort', onStop);
          wake = undefined;
        }
        reason = dirty ? 'notify' : 'resync';
      }
    })();

    return () => {
      stop.abort();
      wake?.abort();
      if (debounce) clearTimeout(debounce);
      closeWatcher();
    };
  });
}
