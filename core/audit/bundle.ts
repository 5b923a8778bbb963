/**
 * The replay bundle of one window (issue 16 part 3; spec/market.md §7): the exact bytes behind a checkpoint, stored
 * content-addressed beside the signed archive so that anyone can re-hash it and replay the window.
 *
 * One bundle per completed window, written after the training step and before the publish (so the publish's custody
 * manifest can name it), under `reliquary/<validator>/bundles/window-<w>/<sha256>.json`, where `sha256` is over the
 * object's exact bytes. It holds:
 *
 *   groups   every group journaled in the window, with the exact revealed body (token ids, the miner's claimed
 *            log-probs π_old and sketch commitments, the commit and envelope signatures), the signed precommit
 *            request, the validator's rewards and rollout hashes (the journal's bytes, which the node prunes after
 *            the archive)
 *   batch    the batch as trained (tokens, prompt length, reward per rollout, per env), null when none was ready
 *   train    the step's hyperparameters (the profile's grpo block), its RNG state (none: the GRPO step is
 *            deterministic), the parent checkpoint the trainer descended from and the step line it produced
 *
 *   pi_old   per proved group, the validator's recomputed π_old: its proof forward's log-probability of every
 *            completion token on the announced checkpoint, f32 little-endian in base64, one string per rollout
 *            (pi-old.ts); the batch's rollouts carry the same bytes, which is what the step trained with
 *
 * The audit re-derives π_old with its own proof forward on the replayed checkpoint and compares it with these bytes,
 * then replays the step on the stored values. The archive's signed `replay` block names the bundle's key and digest
 * (archive.ts `withReplay`).
 *
 * @example
 *   const b = await writeWindowBundle(store, { validator, profile, archive, batch, train, journalPrefix });
 *   const got = await readWindowBundle(store, b.key);  // { bytes, sha256, bundle } or null
 */
import type { ObjectStore } from '../interfaces/store.ts';
import type { WindowArchive } from '../market/archive.ts';
import { decodeRecord, type GroupRecord } from '../market/journal.ts';
import type { Profile } from '../profile/index.ts';
import { hex, utf8 } from '../protocol/codec.ts';
import { sha256 } from '../protocol/hash.ts';
import type { SubmissionPrecommitRequest } from '../protocol/wire.ts';
import type { StoredBatch } from '../validator/progress.ts';
import type { TrainLine } from '../validator/report.ts';

/** 2: groups carry the recomputed π_old. */
export const BUNDLE_VERSION = 2;

/** One journaled group, as bundled. */
export interface BundleGroup {
  /** The receipt id (= the auction candidate id in the archive). */
  readonly id: string;
  readonly env: string;
  readonly hotkey: string;
  readonly prompt_idx: number;
  readonly merkle_root: string;
  readonly rewards: readonly number[];
  readonly rollout_hashes: readonly string[];
  readonly arrival_round: number;
  /** The signed precommit request. */
  readonly request: SubmissionPrecommitRequest;
  /** The exact revealed bytes (UTF-8 JSON); the miner's claimed log-probs are its `token_logprobs`. */
  readonly body: string;
  /** The validator's recomputed π_old per rollout (pi-old.ts encoding); null: the group was not proved. */
  readonly pi_old: readonly string[] | null;
}

/** The training block of a bundle. */
export interface BundleTrain {
  /** The last published (or base) checkpoint the trainer descended from when the step ran. */
  readonly parent_revision: string;
  readonly parent_checkpoint_n: number;
  /** The window that checkpoint was published for (null: the base checkpoint). */
  readonly parent_window: number | null;
  /** The profile's grpo block the step ran under. */
  readonly hyperparameters: Profile['grpo'];
  /** The step's RNG state: none, the GRPO step draws no random numbers (training.md: determinism). */
  readonly rng: null;
  /** The step line (null: the trainer's window cursor had already passed the window, no step ran). */
  readonly step: TrainLine | null;
}

export interface WindowBundle {
  readonly bundle_version: number;
  readonly profile_id: string;
  readonly window: number;
  readonly validator_hotkey: string;
  readonly randomness: string;
  readonly seal_randomness: string;
  /** The checkpoint the window announced (its proofs ran on it). */
  readonly checkpoint_revision: string;
  readonly groups: readonly BundleGroup[];
  readonly batch: StoredBatch | null;
  readonly train: BundleTrain | null;
}

export const bundlePrefix = (validator: string, window?: number): string =>
  `reliquary/${validator}/bundles/${window === undefined ? '' : `window-${window}/`}`;
export const bundleKey = (validator: string, window: number, digest: string): string => `${bundlePrefix(validator, window)}${digest}.json`;

/** The window and digest of a bundle key, or null. */
export function parseBundleKey(key: string): { window: number; sha256: string } | null {
  const m = /\/bundles\/window-(\d+)\/([0-9a-f]{64})\.json$/.exec(key);
  return m ? { window: Number(m[1]), sha256: m[2]! } : null;
}

/** The journaled groups of a window (exact records, commit order); torn records are skipped, as recovery does. */
export async function journalGroups(store: ObjectStore, journalPrefix: string): Promise<BundleGroup[]> {
  const out: { seq: number; g: BundleGroup }[] = [];
  for (const key of (await store.list(`${journalPrefix}group-`)).sort()) {
    const bytes = await store.get(key);
    if (bytes === null) continue;
    const d = decodeRecord<GroupRecord>(bytes, 'group');
    if (!d.ok) continue;
    const r = d.record;
    out.push({
      seq: r.seq,
      g: {
        id: r.entry.id, env: r.entry.env, hotkey: r.entry.hotkey, prompt_idx: r.entry.promptIdx, merkle_root: r.entry.merkleRoot,
        rewards: r.entry.rewards, rollout_hashes: r.entry.rolloutHashes, arrival_round: r.receipt.arrival_round, request: r.receipt.request, body: r.body,
        pi_old: null,
      },
    });
  }
  return out.sort((a, b) => a.seq - b.seq).map((x) => x.g);
}

export interface BundleInput {
  readonly validator: string;
  readonly profile: Profile;
  readonly archive: WindowArchive;
  readonly groups: readonly BundleGroup[];
  /** The seal's recomputed π_old by group id (the progress record's). */
  readonly piOld?: Readonly<Record<string, readonly string[]>>;
  readonly batch: StoredBatch | null;
  readonly train: BundleTrain | null;
}

/** The bundle object of a window. */
export function buildWindowBundle(i: BundleInput): WindowBundle {
  const a = i.archive;
  return {
    bundle_version: BUNDLE_VERSION, profile_id: i.profile.id, window: a.window_start, validator_hotkey: i.validator,
    randomness: a.randomness, seal_randomness: a.seal_randomness, checkpoint_revision: a.checkpoint_revision,
    groups: i.groups.map((g) => ({ ...g, pi_old: i.piOld?.[g.id] ?? g.pi_old })), batch: i.batch, train: i.train,
  };
}

/** Writes a bundle under its content address; the same content always lands on the same key (a retry rewrites it). */
export async function putWindowBundle(store: ObjectStore, b: WindowBundle): Promise<{ key: string; sha256: string }> {
  const bytes = utf8(JSON.stringify(b));
  const digest = hex(sha256(bytes));
  const key = bundleKey(b.validator_hotkey, b.window, digest);
  await store.put(key, bytes);
  return { key, sha256: digest };
}

/** A stored bundle: its exact bytes, their digest and the parsed object (null when it does not parse). */
export async function readWindowBundle(store: ObjectStore, key: string): Promise<{ bytes: Uint8Array; sha256: string; bundle: WindowBundle | null } | null> {
  const bytes = await store.get(key);
  if (bytes === null) return null;
  let bundle: WindowBundle | null = null;
  try {
    bundle = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as WindowBundle;
  } catch {
    bundle = null;
  }
  return { bytes, sha256: hex(sha256(bytes)), bundle };
}

/** The bundle keys of a window (normally one). */
export async function windowBundleKeys(store: ObjectStore, validator: string, window: number): Promise<string[]> {
  return (await store.list(bundlePrefix(validator, window))).filter((k) => parseBundleKey(k) !== null);
}
