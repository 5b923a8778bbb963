/**
 * What a miner checks before it switches to a published checkpoint (spec/market.md §7): the manifest served at
 * `/checkpoint` must be signed (sr25519 over ASCII `"<n>|<revision>"`) by the validator's registered hotkey, must
 * announce the checkpoint `/state` announced, and the weights the miner downloaded (`repo_id`, read through the
 * host's `CheckpointFs`) must hash to the manifest's revision. A failed check names what failed; the host keeps its
 * current weights and says why (its submissions then answer WRONG_CHECKPOINT until a good checkpoint arrives).
 *
 * @example
 *   const c = await checkCheckpoint({ manifest: await transport.checkpoint(), validatorHotkey, expectedN: 3, fs });
 *   if (!c.ok) log(`checkpoint refused (${c.reason}): ${c.message}`); else model = await loadModel(be, { fs, dir: c.dir });
 */
import type { CheckpointManifest } from '../interfaces/transport.ts';
import type { CheckpointFs } from '../model/checkpoint.ts';
import { utf8 } from '../protocol/codec.ts';
import { verifySignature } from '../protocol/sr25519.ts';
import { checkpointRevision } from '../validator/publish.ts';

/** Why a checkpoint was refused. */
export type CheckpointRefusal = 'no_manifest' | 'bad_signature' | 'wrong_checkpoint_n' | 'unreadable' | 'revision_mismatch';

export type CheckpointCheck =
  | { readonly ok: true; readonly dir: string; readonly checkpointN: number; readonly revision: string }
  | { readonly ok: false; readonly reason: CheckpointRefusal; readonly message: string };

export interface CheckpointCheckInput {
  /** The manifest from `/checkpoint` (null when the validator serves none). */
  readonly manifest: CheckpointManifest | null;
  /** The validator's hotkey (SS58) as registered on the chain; null skips the signature check (in-process tests). */
  readonly validatorHotkey: string | null;
  /** The `checkpoint_n` `/state` announced (absent: not checked). */
  readonly expectedN?: number;
  readonly fs: CheckpointFs;
  /** Where the downloaded checkpoint lies (default: the manifest's `repo_id`). */
  readonly dir?: string;
}

/** Checks a manifest and the downloaded weights it points to; never throws. */
export async function checkCheckpoint(i: CheckpointCheckInput): Promise<CheckpointCheck> {
  const m = i.manifest;
  if (m === null || typeof m !== 'object') return { ok: false, reason: 'no_manifest', message: 'the validator serves no checkpoint manifest at /checkpoint' };
  if (i.validatorHotkey !== null && !verifySignature(utf8(`${m.checkpoint_n}|${m.revision}`), String(m.signature ?? ''), i.validatorHotkey)) {
    return { ok: false, reason: 'bad_signature', message: `the manifest of checkpoint ${m.checkpoint_n} is not signed by the validator hotkey ${i.validatorHotkey}` };
  }
  if (i.expectedN !== undefined && m.checkpoint_n !== i.expectedN) {
    return { ok: false, reason: 'wrong_checkpoint_n', message: `/state announced checkpoint ${i.expectedN} but the signed manifest is for ${m.checkpoint_n}` };
  }
  const dir = i.dir ?? m.repo_id;
  let got: string;
  try {
    got = await checkpointRevision(i.fs, dir);
  } catch (e) {
    return { ok: false, reason: 'unreadable', message: `cannot read checkpoint ${m.checkpoint_n} at ${dir}: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (got !== m.revision) {
    return { ok: false, reason: 'revision_mismatch', message: `the weights at ${dir} hash to revision ${got}, not the manifest's ${m.revision}` };
  }
  return { ok: true, dir, checkpointN: m.checkpoint_n, revision: m.revision };
}
