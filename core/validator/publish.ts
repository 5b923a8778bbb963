/**
 * The validator's checkpoints: the base one it starts from, the ones it publishes, and the signed manifest it
 * announces (spec/market.md §7; a publish may carry its held-out benchmark against the parent, benchmark.ts, into the
 * index record and the manifest; protocol.md: the forced-seed stream and admission's WRONG_CHECKPOINT check are keyed by
 * the announced revision, so one is always announced, the base checkpoint's before the first publish).
 *
 * A revision is the first 40 hex of sha256 over the checkpoint's weights file (`model.safetensors`, or the shard
 * index of a sharded checkpoint): the same function for the base checkpoint and every published one.
 *
 * Publishing `n` for window `w` writes, in order: the trainer checkpoint into `dirOf(n)` (weights + trainer state,
 * which carries `trained_window_cursor = w`), the index record `checkpoints/ckpt-<n>.json`, then the manifest, which
 * is the durable "published" marker (`window: w`). A crash before the manifest leaves the previous one current and
 * the directory is rewritten by the retry; the index lets a window be proved on the checkpoint it announced even
 * after a later one is current (`findCheckpoint`).
 *
 * @example
 *   const base = await baseCheckpoint(io);                       // { checkpointN: 0, revision, dir, window: null }
 *   const pub = await publishCheckpoint(io, store, keys, trainer, 1, window);
 *   v.setCheckpoint(manifestOf(pub, signer));
 */
import type { CustodyBlock } from '../audit/custody.ts';
import type { ObjectStore } from '../interfaces/store.ts';
import { getJson, putJson } from '../interfaces/store.ts';
import type { CheckpointManifest } from '../interfaces/transport.ts';
import { joinPath, WEIGHTS_FILE, WEIGHTS_INDEX_FILE, type CheckpointFs } from '../model/checkpoint.ts';
import { hex, utf8 } from '../protocol/codec.ts';
import { sha256 } from '../protocol/hash.ts';
import type { Signer } from '../protocol/sr25519.ts';
import { saveTrainerCheckpoint, type Trainer } from '../training/trainer.ts';
import type { CheckpointBenchmark } from './benchmark.ts';
import type { PublishedCheckpoint } from './report.ts';

/** The checkpoint-I/O seam: the host's files, the base checkpoint and where checkpoint `n` is written. */
export interface CheckpointIo {
  readonly fs: CheckpointFs;
  /** The checkpoint the validator starts from when nothing was published (the embedded model on the devnet). */
  readonly baseDir: string;
  /** The directory of published checkpoint `n` (≥ 1). */
  dirOf(n: number): string;
}

/** Where the validator keeps its manifest and checkpoint index in the store. */
export interface CheckpointKeys {
  readonly manifest: string;
  /** Prefix of the index records `ckpt-<n>.json`. */
  readonly index: string;
}

export const defaultCheckpointKeys = (validator: string): CheckpointKeys => ({
  manifest: `reliquary/${validator}/checkpoint.json`,
  index: `reliquary/${validator}/checkpoints/`,
});

/** The revision of the checkpoint in `dir` (40 hex of sha256 over its weights file or shard index). */
export async function checkpointRevision(fs: CheckpointFs, dir: string): Promise<string> {
  const single = joinPath(dir, WEIGHTS_FILE);
  const file = (await fs.exists(single)) ? single : joinPath(dir, WEIGHTS_INDEX_FILE);
  return hex(sha256(await fs.readFile(file))).slice(0, 40);
}

/** The base checkpoint as a published one (`checkpoint_n` 0). */
export async function baseCheckpoint(io: CheckpointIo): Promise<PublishedCheckpoint> {
  return { checkpointN: 0, revision: await checkpointRevision(io.fs, io.baseDir), dir: io.baseDir, window: null };
}

/** The current manifest record (null before the first publish); a record of the old shape counts as window unknown. */
export async function readPublished(store: ObjectStore, keys: CheckpointKeys): Promise<PublishedCheckpoint | null> {
  const p = await getJson<Partial<PublishedCheckpoint>>(store, keys.manifest);
  if (p === null) return null;
  if (!Number.isSafeInteger(p.checkpointN) || typeof p.revision !== 'string' || typeof p.dir !== 'string') {
    throw new Error(`${keys.manifest}: not a checkpoint manifest record`);
  }
  return { checkpointN: p.checkpointN!, revision: p.revision, dir: p.dir, window: p.window ?? null };
}

/** Publishes the trainer as checkpoint `n` for `window` (see the file header for the write order). */
export async function publishCheckpoint(io: CheckpointIo, store: ObjectStore, keys: CheckpointKeys, trainer: Trainer, n: number, window: number, benchmark?: CheckpointBenchmark): Promise<PublishedCheckpoint> {
  const dir = io.dirOf(n);
  await saveTrainerCheckpoint(io.fs, dir, trainer);
  const pub: PublishedCheckpoint = { checkpointN: n, revision: await checkpointRevision(io.fs, dir), dir, window, ...(benchmark ? { benchmark } : {}) };
  await putJson(store, `${keys.index}ckpt-${n}.json`, pub);
  await putJson(store, keys.manifest, pub);
  return pub;
}

/** The published (or base) checkpoint with `revision`, from the index; null when none has it. */
export async function findCheckpoint(store: ObjectStore, keys: CheckpointKeys, revision: string, base: PublishedCheckpoint): Promise<PublishedCheckpoint | null> {
  if (revision === base.revision) return base;
  for (const key of await store.list(keys.index)) {
    const p = await getJson<PublishedCheckpoint>(store, key);
    if (p?.revision === revision) return p;
  }
  return null;
}

/**
 * The signed manifest a checkpoint is announced with; `signature` is over ASCII `"<n>|<revision>"`. With `custody`
 * (core/audit/custody.ts) it also carries the signed parent revision and the bundles trained since the parent.
 */
export function manifestOf(pub: PublishedCheckpoint, signer: Signer, custody?: CustodyBlock): CheckpointManifest & { readonly custody?: CustodyBlock; readonly benchmark?: CheckpointBenchmark } {
  const m = { checkpoint_n: pub.checkpointN, repo_id: pub.dir, revision: pub.revision, signature: signer.sign(utf8(`${pub.checkpointN}|${pub.revision}`)), ...(pub.benchmark ? { benchmark: pub.benchmark } : {}) };
  return custody ? { ...m, custody } : m;
}
