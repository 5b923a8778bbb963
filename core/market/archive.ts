/**
 * The archive record of one window (spec/market.md §7, §11.2, §11.11), signed by the validator's sr25519 key.
 *
 * Exactly one archive per activated window: `completed` (with the batch, the auction of every env, the payout)
 * or `aborted` (a tombstone: `failure_stage`, `failure_type`, everything economic empty). One schema version,
 * no alias keys (`*_shadow`, singular `environment`, `runners_up` are gone). `rewards_by_hotkey` is the
 * authoritative record of what each hotkey earned; the weights replay reads only that.
 *
 * Signature (§11.2): sr25519 by `validator_hotkey` over the canonical bytes
 *   utf8("reliquary/archive-signature/v1\0") ‖ utf8(dumpsPy(record without "signature", sort_keys, compact)),
 * so every field — at least `window_start`, `randomness` and `rewards_by_hotkey` — is bound. Numbers are written
 * as Python would write the JS values (`1.0` and `1` are the same number here), so the bytes survive a JSON
 * round trip. Verify on replay and drop what fails.
 *
 * @example
 *   const signed = signArchive(buildWindowArchive({ ... }), validatorSigner);
 *   verifyArchive(JSON.parse(text), validatorSs58).ok; // true
 */
import { utf8 } from '../protocol/codec.ts';
import { dumpsPy, PyFloat } from '../protocol/pyjson.ts';
import { verifySignature, type Signer } from '../protocol/sr25519.ts';
import type { Profile } from '../profile/index.ts';
import type { ArchiveWinners } from './cooldown.ts';
import type { Payout } from './payout.ts';
import type { AuctionOutcome } from './select.ts';
import type { EmaArchive } from './weights.ts';

/** The one archive schema of this port (upstream writes 2, with aliases and unsigned). */
export const ARCHIVE_SCHEMA_VERSION = 3;
/** Domain prefix of the signed bytes. */
export const ARCHIVE_SIGNATURE_DOMAIN = 'reliquary/archive-signature/v1';

/** A JSON value as archived. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };

/** One candidate row of `difficulty_auction.<env>.candidates[]`. */
export interface ArchiveCandidate {
  readonly id: string;
  readonly rank: number;
  readonly value: number;
  readonly mean: number;
  readonly sigma: number;
  readonly hotkey: string;
  readonly operator: string | null;
  readonly prompt_idx: number;
  readonly content_sha256: string;
  readonly arrival_round: number;
  readonly tiebreak: string;
  readonly proof_attempted: boolean;
  readonly proof_passed: boolean | null;
  readonly selected: boolean;
  readonly status: string;
  readonly reason: string | null;
  readonly reject_stage: string | null;
}

/** `difficulty_auction.<env>`. */
export interface ArchiveAuction {
  readonly status: 'completed' | 'shortfall' | 'aborted';
  readonly stop_reason: string;
  readonly winners: number;
  readonly attempts: number;
  readonly wall_seconds: number;
  readonly debts: { readonly hotkey: Readonly<Record<string, number>>; readonly operator: Readonly<Record<string, number>> };
  readonly forensics: readonly Json[];
  readonly candidates: readonly ArchiveCandidate[];
}

/** One row of `batch[]`: the winner's identity; the host adds prompt, rollouts, merkle root, diagnostics. */
export interface ArchiveBatchRow {
  readonly hotkey: string;
  readonly env_name: string;
  readonly prompt_idx: number;
  readonly content_sha256: string;
  readonly sigma: number;
  readonly rank: number;
  readonly reward: number;
  readonly rollout_hashes: readonly string[];
  readonly extra?: { readonly [k: string]: Json };
}

/** The archive's signature block. */
export interface ArchiveSignature {
  readonly scheme: 'sr25519';
  readonly hotkey: string;
  readonly value: string;
}

/** A window archive. */
export interface WindowArchive {
  readonly archive_schema_version: number;
  readonly profile_id: string;
  readonly window_status: 'completed' | 'aborted';
  readonly window_start: number;
  readonly validator_hotkey: string;
  readonly randomness: string;
  readonly seal_randomness: string;
  readonly checkpoint_revision: string;
  readonly environments: readonly string[];
  readonly batch: readonly ArchiveBatchRow[];
  readonly difficulty_auction: Readonly<Record<string, ArchiveAuction>>;
  readonly reject_summary: Readonly<Record<string, number>>;
  readonly training_quarantine: Json;
  readonly training_accumulator: Json;
  /** AUTHORITATIVE: hotkey → share of the window's emission. */
  readonly rewards_by_hotkey: Readonly<Record<string, number>>;
  readonly burned: number;
  readonly failure_stage?: string;
  readonly failure_type?: string;
  /** Replay pointers (issue 16; absent on tombstones and archives of older nodes): see {@link ArchiveReplay}. */
  readonly replay?: ArchiveReplay;
  readonly signature?: ArchiveSignature;
}

/**
 * The signed pointers that make a completed window replayable byte for byte (core/audit): the content-addressed
 * bundle (exact revealed bodies, batch as trained, step hyperparameters), the checkpoint the training step descended
 * from and the checkpoint published for this window, if any. Added after training, then the archive is re-signed.
 */
export interface ArchiveReplay {
  /** Store key of the bundle object (`reliquary/<validator>/bundles/window-<w>/<sha256>.json`). */
  readonly bundle_key: string;
  /** sha256 (64 hex) of the bundle object's exact bytes. */
  readonly bundle_sha256: string;
  /** The last published (or base) checkpoint revision the trainer descended from when this window trained. */
  readonly parent_revision: string;
  /** The checkpoint published right after this window (null: none was due). */
  readonly result_revision: string | null;
  readonly result_checkpoint_n: number | null;
}

const sortedRecord = (m: ReadonlyMap<string, number>): Record<string, number> =>
  Object.fromEntries([...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));

/** `difficulty_auction.<env>` of an auction outcome. */
export function auctionArchive(o: AuctionOutcome): ArchiveAuction {
  return {
    status: o.status,
    stop_reason: o.stopReason,
    winners: o.winners.length,
    attempts: o.attempts,
    wall_seconds: o.wallSeconds,
    debts: { hotkey: sortedRecord(o.debts.hotkey), operator: sortedRecord(o.debts.operator) },
    forensics: o.forensics.map((f) => ({ id: f.id, rank: f.rank, hotkey: f.hotkey, pick: f.pick, passed: f.passed, reason: f.reason ?? null, error: f.error ?? null })),
    candidates: o.records.map((r) => ({
      id: r.candidate.id,
      rank: r.candidate.rank,
      value: r.candidate.value,
      mean: r.candidate.mean,
      sigma: r.candidate.sigma,
      hotkey: r.candidate.hotkey,
      operator: r.candidate.operator,
      prompt_idx: r.candidate.promptIdx,
      content_sha256: r.candidate.contentSha256,
      arrival_round: r.candidate.arrivalRound,
      tiebreak: r.candidate.key.tiebreak,
      proof_attempted: r.proofAttempted,
      proof_passed: r.proofPassed,
      selected: r.status === 'selected' && o.status !== 'aborted',
      status: r.status,
      reason: r.reason ?? null,
      reject_stage: r.rejectStage ?? null,
    })),
  };
}

/** Common header fields of both archive kinds. */
export interface ArchiveHeader {
  readonly profile: Pick<Profile, 'id' | 'environmentMix'>;
  readonly window: number;
  readonly validatorHotkey: string;
  readonly randomness: string;
  readonly sealRandomness?: string;
  readonly checkpointRevision?: string;
  readonly rejectSummary?: Readonly<Record<string, number>>;
}

/** A completed window's archive (unsigned). */
export function buildWindowArchive(
  h: ArchiveHeader & {
    readonly outcomes: readonly AuctionOutcome[];
    readonly payout: Payout;
    readonly batch: readonly ArchiveBatchRow[];
    readonly quarantine?: Json;
    readonly accumulator?: Json;
  },
): WindowArchive {
  return {
    ...header(h, 'completed'),
    batch: h.batch,
    difficulty_auction: Object.fromEntries(h.outcomes.map((o) => [o.env, auctionArchive(o)])),
    training_quarantine: h.quarantine ?? null,
    training_accumulator: h.accumulator ?? null,
    rewards_by_hotkey: { ...h.payout.rewardsByHotkey },
    burned: h.payout.burned,
  };
}

/** An aborted window's tombstone (unsigned): failure stage and type, nothing economic, everything burned. */
export function buildTombstone(h: ArchiveHeader & { readonly failureStage: string; readonly failureType: string }): WindowArchive {
  return {
    ...header(h, 'aborted'),
    batch: [],
    difficulty_auction: {},
    training_quarantine: null,
    training_accumulator: null,
    rewards_by_hotkey: {},
    burned: 1,
    failure_stage: h.failureStage,
    failure_type: h.failureType,
  };
}

function header(h: ArchiveHeader, status: 'completed' | 'aborted') {
  return {
    archive_schema_version: ARCHIVE_SCHEMA_VERSION,
    profile_id: h.profile.id,
    window_status: status,
    window_start: h.window,
    validator_hotkey: h.validatorHotkey,
    randomness: h.randomness,
    seal_randomness: h.sealRandomness ?? '',
    checkpoint_revision: h.checkpointRevision ?? '',
    environments: h.profile.environmentMix.map(([n]) => n),
    reject_summary: { ...(h.rejectSummary ?? {}) },
  } as const;
}

/** Plain-JSON copy: PyFloat → number, `undefined` members dropped (what a JSON round trip does). */
function normalize(v: unknown): unknown {
  if (v instanceof PyFloat) return v.value;
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = normalize(x);
    return out;
  }
  return v;
}

/** The bytes the validator signs: domain ‖ sorted-key compact Python JSON of the record without `signature`. */
export function archiveSigningBytes(archive: WindowArchive | Record<string, unknown>): Uint8Array {
  const { signature: _omit, ...body } = archive as Record<string, unknown>;
  const text = dumpsPy(normalize(body), { sortKeys: true, compact: true, allowNan: false });
  return utf8(`${ARCHIVE_SIGNATURE_DOMAIN}\0${text}`);
}

/** Signs an archive with the validator key; the signer must be `validator_hotkey`. */
export function signArchive(archive: WindowArchive, signer: Signer): WindowArchive {
  if (archive.validator_hotkey !== signer.ss58) {
    throw new Error(`archive validator_hotkey ${archive.validator_hotkey} is not the signer ${signer.ss58}`);
  }
  const value = signer.sign(archiveSigningBytes(archive));
  return { ...archive, signature: { scheme: 'sr25519', hotkey: signer.ss58, value } };
}

/** The archive with its replay pointers, re-signed (every other field unchanged, so the EMA and cooldown replays read the same). */
export function withReplay(archive: WindowArchive, replay: ArchiveReplay, signer: Signer): WindowArchive {
  const { signature: _old, ...body } = archive;
  return signArchive({ ...body, replay }, signer);
}

/** Result of {@link verifyArchive}. */
export type ArchiveVerdict = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** Verifies a parsed archive: schema, signer = `validator_hotkey` (= `expectedHotkey` when given), signature. */
export function verifyArchive(archive: unknown, expectedHotkey?: string): ArchiveVerdict {
  if (archive === null || typeof archive !== 'object' || Array.isArray(archive)) return { ok: false, error: 'not an object' };
  const a = archive as Record<string, unknown>;
  if (a.archive_schema_version !== ARCHIVE_SCHEMA_VERSION) return { ok: false, error: `schema version ${String(a.archive_schema_version)}` };
  const sig = a.signature as Record<string, unknown> | undefined;
  if (!sig || typeof sig !== 'object' || sig.scheme !== 'sr25519' || typeof sig.value !== 'string' || typeof sig.hotkey !== 'string') {
    return { ok: false, error: 'missing or malformed signature' };
  }
  if (sig.hotkey !== a.validator_hotkey) return { ok: false, error: 'signature hotkey is not validator_hotkey' };
  if (expectedHotkey !== undefined && sig.hotkey !== expectedHotkey) return { ok: false, error: `signed by ${sig.hotkey}, expected ${expectedHotkey}` };
  let bytes: Uint8Array;
  try {
    bytes = archiveSigningBytes(a);
  } catch (e) {
    return { ok: false, error: `not canonicalisable: ${e instanceof Error ? e.message : String(e)}` };
  }
  return verifySignature(bytes, sig.value, sig.hotkey) ? { ok: true } : { ok: false, error: 'bad signature' };
}

/** Object-store key of a window's archive, namespaced per validator (§11.2). */
export function archiveKey(validatorHotkey: string, window: number): string {
  return `reliquary/${validatorHotkey}/dataset/window-${window}.json`;
}

/** What the EMA replay reads from an archive. */
export function archiveToEma(a: WindowArchive): EmaArchive {
  return { window: a.window_start, status: a.window_status, rewardsByHotkey: a.rewards_by_hotkey };
}

/** What the cooldown and hash replays read from an archive. */
export function archiveToWinners(a: WindowArchive): ArchiveWinners {
  return {
    window: a.window_start,
    status: a.window_status,
    winners: a.batch.map((r) => ({ env: r.env_name, promptIdx: r.prompt_idx, contentSha256: r.content_sha256, rolloutHashes: r.rollout_hashes })),
  };
}
