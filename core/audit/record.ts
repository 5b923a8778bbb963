/**
 * What the validator node records for the audit (issue 16 parts 3–4), one call per post-seal step:
 *
 *   trained → (before the publish)  `recordBundle`: the window's bundle (journal bytes, batch, step) into the store
 *   publish                          `recordCustody` (custody.ts): the signed custody manifest
 *   archive                          `replayableArchive`: the archive with its signed `replay` block
 *
 * Every call is idempotent in its content (a restart re-runs it at the same step with the same result).
 *
 * @example
 *   await recordBundle(store, { validator, profile, rec, journalPrefix, parent: current });
 *   const archive = await replayableArchive(store, signer, rec);
 */
import type { ObjectStore } from '../interfaces/store.ts';
import { withReplay, type WindowArchive } from '../market/archive.ts';
import type { Profile } from '../profile/index.ts';
import type { Signer } from '../protocol/sr25519.ts';
import type { ProgressRecord } from '../validator/progress.ts';
import type { PublishedCheckpoint } from '../validator/report.ts';
import { buildWindowBundle, journalGroups, putWindowBundle, readWindowBundle, windowBundleKeys } from './bundle.ts';

export interface RecordBundleInput {
  readonly validator: string;
  readonly profile: Profile;
  readonly rec: ProgressRecord;
  /** The window's journal prefix (`WindowJournal.prefix(window)`), read before the node prunes it. */
  readonly journalPrefix: string;
  /** The checkpoint the trainer descends from now (the last published one, before this window's publish). */
  readonly parent: PublishedCheckpoint;
}

/** Writes the window's bundle (completed windows only); returns its key and digest, or null. */
export async function recordBundle(store: ObjectStore, i: RecordBundleInput): Promise<{ key: string; sha256: string } | null> {
  const { rec } = i;
  if (rec.status !== 'completed') return null;
  const train = rec.batch
    ? { parent_revision: i.parent.revision, parent_checkpoint_n: i.parent.checkpointN, parent_window: i.parent.window, hyperparameters: i.profile.grpo, rng: null, step: rec.train }
    : null;
  const groups = await journalGroups(store, i.journalPrefix);
  return putWindowBundle(store, buildWindowBundle({ validator: i.validator, profile: i.profile, archive: rec.archive, groups, batch: rec.batch, train, ...(rec.piOld ? { piOld: rec.piOld } : {}) }));
}

/** The archive to write for a window: with its re-signed `replay` block when a bundle was recorded, else as sealed. */
export async function replayableArchive(store: ObjectStore, signer: Signer, rec: ProgressRecord): Promise<WindowArchive> {
  const keys = await windowBundleKeys(store, signer.ss58, rec.window);
  if (rec.status !== 'completed' || keys.length === 0) return rec.archive;
  const got = await readWindowBundle(store, keys[keys.length - 1]!);
  if (!got?.bundle) return rec.archive;
  const parent = got.bundle.train?.parent_revision ?? rec.archive.checkpoint_revision;
  return withReplay(rec.archive, {
    bundle_key: keys[keys.length - 1]!, bundle_sha256: got.sha256, parent_revision: parent,
    result_revision: rec.published?.revision ?? null, result_checkpoint_n: rec.published?.checkpointN ?? null,
  }, signer);
}
