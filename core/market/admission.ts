/**
 * Admission gates A (precommit) and B (reveal) of spec/market.md §2, over one window's `AdmissionBook`.
 * Only the first failure is reported, in exactly the spec's order.
 *
 * A. `precommitGate` (inline, after the wire schema): state OPEN (WINDOW_NOT_ACTIVE) → env served (BAD_SCHEMA) →
 *    window (WINDOW_MISMATCH) → payload_bytes ≤ `maxRevealBytes(profile)` (BAD_SCHEMA; core/protocol/reveal-body.ts) → checkpoint, skipped while none is published
 *    (WRONG_CHECKPOINT) → protocol, profile id (PROTOCOL_MISMATCH / GENERATION_CONTRACT_MISMATCH) → precommit
 *    signature (BAD_ENVELOPE_SIGNATURE; costs nothing) → idempotency: the same signature returns the same receipt
 *    → drand round = the validator's round at arrival, zero tolerance (FUTURE_ROUND / STALE_ROUND) → prompt range
 *    (PROMPT_OUT_OF_RANGE; off in v4) → index cooldown (PROMPT_IN_COOLDOWN) → index < len(env) (BAD_PROMPT_IDX) →
 *    fewer than `groupsPerPrompt` pool groups on the prompt (PROMPT_FULL) → registration snapshot usable
 *    (REGISTRATION_UNAVAILABLE) and hotkey in it (HOTKEY_NOT_REGISTERED) → quota (RATE_LIMITED) → reservation:
 *    arrival ≤ open + collection and not sealed (PRECOMMIT_EXPIRED), receipts per env and per hotkey, byte budget
 *    (BATCH_FILLED) → the operator's fair share (RATE_LIMITED; knob `admission.fairShare`, fair-share.ts).
 *    Before the gates, receipts unrevealed past their deadline are released (knob `admission.releaseUnrevealed`).
 *    Success: quota +1 and a receipt `{receipt_id, upload_deadline_ts = min(t + grace, open +
 *    collection + grace)}`. A receipt reserves bytes and quota, never a prompt or a slot.
 * B. `revealGate` (the receipt header was present): receipt unknown to this window (PRECOMMIT_INVALID) → already
 *    revealed: its stored outcome, no second enqueue → Content-Length ≠ committed (PRECOMMIT_INVALID) → last byte
 *    after the deadline (PRECOMMIT_EXPIRED) → size or sha256 ≠ committed (PRECOMMIT_INVALID) → env queue full
 *    (BATCH_FILLED) → queued, `submitted`. The first reveal consumes the receipt whatever its answer.
 *    `uploadGate` runs the part of B that needs no body byte, before the server reads one: unknown receipt, stored
 *    outcome, an upload of it already in progress (PRECOMMIT_INVALID, not consuming), Content-Length ≠ committed,
 *    arrival after the deadline; on success it marks the receipt uploading and caps the read at `payload_bytes`.
 *
 * @example
 *   const r = precommitGate(book, window, cfg, request, arrivalTs);
 *   if (r.ok) reply(r.receipt);
 */
import { registryFreshness } from '../interfaces/chain.ts';
import type { PrecommitResult, RevealUpload, SubmitResult, UploadHead } from '../interfaces/transport.ts';
import type { Profile } from '../profile/index.ts';
import { hex } from '../protocol/codec.ts';
import { sha256 } from '../protocol/hash.ts';
import { promptRange } from '../protocol/randomness.ts';
import { Reason, reject, type Rejection } from '../protocol/reasons.ts';
import { requestPrecommitDigest } from '../protocol/admission.ts';
import { maxRevealBytes } from '../protocol/reveal-body.ts';
import { verifySignature } from '../protocol/sr25519.ts';
import type { SubmissionPrecommitRequest } from '../protocol/wire.ts';
import { AdmissionBook, type Receipt } from './book.ts';
import { fairShareGate } from './fair-share.ts';
import { collectionEnd, revealDeadline, type WindowState } from './window.ts';

/** What the gates need besides the book: the profile, the beacon clock, ids and budgets. */
export interface AdmissionConfig {
  readonly profile: Profile;
  /** The drand round current at a unix time (the beacon's `roundAt`). */
  readonly roundAt: (unixSeconds: number) => number;
  /** A fresh opaque receipt id. */
  readonly newReceiptId: () => string;
  /** Payload bytes reserved per env per window at most (a validator resource setting, not consensus). */
  readonly byteBudgetPerEnv: number;
}

/** A receipt id: 32 random bytes as hex (upstream `token_urlsafe(32)`; opaque either way). */
export function randomReceiptId(randomBytes: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n))): string {
  return hex(randomBytes(32));
}

const no = (rejection: Rejection): { ok: false; rejection: Rejection } => ({ ok: false, rejection });

/** The precommit result, and whether the signature verified (rejections before it are not attributable). */
export type PrecommitOutcome = PrecommitResult & { readonly signed: boolean; readonly arrivalRound: number };

/** Gate A on one typed precommit; on success the book holds a new receipt and the hotkey's quota grew by 1. */
export function precommitGate(
  book: AdmissionBook,
  w: WindowState,
  cfg: AdmissionConfig,
  req: SubmissionPrecommitRequest,
  arrivalTs: number,
): PrecommitOutcome {
  const { profile: p } = cfg;
  const ctx = book.ctx;
  const arrivalRound = cfg.roundAt(arrivalTs);
  const unsigned = (r: Rejection): PrecommitOutcome => ({ ...no(r), signed: false, arrivalRound });
  const signed = (r: Rejection): PrecommitOutcome => ({ ...no(r), signed: true, arrivalRound });

  if (w.phase !== 'open' || w.windowN !== ctx.window) return unsigned(reject(Reason.WINDOW_NOT_ACTIVE, `the window is ${w.phase}`));
  if (p.admission.releaseUnrevealed) book.releaseExpired(arrivalTs);
  const size = ctx.envSizes[req.environment];
  if (size === undefined) {
    return unsigned(reject(Reason.BAD_SCHEMA, `environment "${req.environment}" is not served in this window (${Object.keys(ctx.envSizes).join(', ')})`, 'environment'));
  }
  if (req.window_start !== ctx.window) return unsigned(reject(Reason.WINDOW_MISMATCH, `window_start ${req.window_start}, the open window is ${ctx.window}`, 'window_start'));
  const revealCap = maxRevealBytes(p);
  if (req.payload_bytes > revealCap) {
    return unsigned(reject(Reason.BAD_SCHEMA, `payload_bytes ${req.payload_bytes} > ${revealCap}, the largest reveal this profile admits`, 'payload_bytes'));
  }
  if (ctx.checkpointRevision !== '' && req.checkpoint_hash !== ctx.checkpointRevision) {
    return unsigned(reject(Reason.WRONG_CHECKPOINT, `checkpoint_hash "${req.checkpoint_hash}", pinned "${ctx.checkpointRevision}"`, 'checkpoint_hash'));
  }
  if (req.protocol_version !== p.protocolVersion) {
    return unsigned(reject(Reason.PROTOCOL_MISMATCH, `protocol_version ${req.protocol_version}, expected ${p.protocolVersion}`, 'protocol_version'));
  }
  if (req.generation_profile_id !== p.id) {
    return unsigned(reject(Reason.GENERATION_CONTRACT_MISMATCH, `generation_profile_id "${req.generation_profile_id}", expected "${p.id}"`, 'generation_profile_id'));
  }
  if (!verifyPrecommit(req, ctx.randomness, p)) {
    return unsigned(reject(Reason.BAD_ENVELOPE_SIGNATURE, 'the precommit signature does not verify over the precommit binding with the window randomness', 'precommit_signature'));
  }
  const sig = req.precommit_signature.toLowerCase();
  const seen = book.bySignature.get(sig);
  const prior = seen === undefined ? undefined : book.receipts.get(seen);
  if (prior) return { ok: true, receipt: { receiptId: prior.id, uploadDeadlineTs: prior.uploadDeadlineTs }, signed: true, arrivalRound: prior.arrivalRound };

  if (req.drand_round > arrivalRound) return signed(reject(Reason.FUTURE_ROUND, `drand_round ${req.drand_round} > the current round ${arrivalRound}`, 'drand_round'));
  if (req.drand_round < arrivalRound) return signed(reject(Reason.STALE_ROUND, `drand_round ${req.drand_round} < the current round ${arrivalRound}`, 'drand_round'));
  if (BigInt(ctx.window) >= p.promptRange.enforceFromWindow) {
    const [lo, hi] = promptRange(ctx.randomness, req.environment, size, p.promptRange);
    if (req.prompt_idx < lo || req.prompt_idx >= hi) {
      return signed(reject(Reason.PROMPT_OUT_OF_RANGE, `prompt_idx ${req.prompt_idx} outside [${lo}, ${hi})`, 'prompt_idx'));
    }
  }
  if (ctx.indexInCooldown(req.environment, req.prompt_idx)) return signed(reject(Reason.PROMPT_IN_COOLDOWN, `prompt ${req.prompt_idx} won recently`, 'prompt_idx'));
  if (req.prompt_idx >= size) return signed(reject(Reason.BAD_PROMPT_IDX, `prompt_idx ${req.prompt_idx} ≥ ${size}`, 'prompt_idx'));
  const onPrompt = book.promptCount(req.environment, req.prompt_idx);
  if (onPrompt >= p.quotas.groupsPerPrompt) return signed(reject(Reason.PROMPT_FULL, `${onPrompt} groups already pending on prompt ${req.prompt_idx}`, 'prompt_idx'));
  const reg = registrationGate(book, req.miner_hotkey, arrivalTs, p);
  if (reg) return signed(reg);
  const used = book.quota.get(req.miner_hotkey) ?? 0;
  if (used >= p.quotas.precommitsPerHotkey) return signed(reject(Reason.RATE_LIMITED, `${used} of ${p.quotas.precommitsPerHotkey} precommits used this window`));
  const filled = reservationGate(book, w, cfg, req, arrivalTs) ?? fairShareGate(book, p, cfg.byteBudgetPerEnv, req);
  if (filled) return signed(filled);

  const receipt: Receipt = {
    id: cfg.newReceiptId(),
    env: req.environment,
    hotkey: req.miner_hotkey,
    request: req,
    arrivalTs,
    arrivalRound,
    uploadDeadlineTs: revealDeadline(w, arrivalTs, p.window),
    state: 'pending',
    revealOutcome: null,
    body: null,
    revealTs: null,
  };
  book.receipts.set(receipt.id, receipt);
  book.bySignature.set(sig, receipt.id);
  AdmissionBook.bump(book.quota, req.miner_hotkey);
  AdmissionBook.bump(book.receiptsPerEnv, req.environment);
  AdmissionBook.bump(book.receiptsPerHotkey, req.miner_hotkey);
  AdmissionBook.bump(book.bytesPerEnv, req.environment, req.payload_bytes);
  return { ok: true, receipt: { receiptId: receipt.id, uploadDeadlineTs: receipt.uploadDeadlineTs }, signed: true, arrivalRound };
}

/** True when `precommit_signature` verifies for `miner_hotkey` over the precommit binding. */
export function verifyPrecommit(req: SubmissionPrecommitRequest, randomness: string, p: Profile): boolean {
  const digest = requestPrecommitDigest(req, randomness, p);
  return verifySignature(digest, req.precommit_signature, req.miner_hotkey);
}

/** REGISTRATION_UNAVAILABLE for a missing or stale snapshot, HOTKEY_NOT_REGISTERED for an absent hotkey, else null. */
export function registrationGate(book: AdmissionBook, hotkey: string, now: number, p: Profile): Rejection | null {
  const snap = book.ctx.registry;
  if (snap === null) return reject(Reason.REGISTRATION_UNAVAILABLE, 'no registry snapshot has been read');
  if (registryFreshness(snap, now, p.chain) === 'stale') {
    return reject(Reason.REGISTRATION_UNAVAILABLE, `the registry snapshot is ${Math.round(now - snap.takenAt)} s old (unusable after ${p.chain.registryStaleSeconds} s)`);
  }
  if (!snap.neurons.some((n) => n.hotkey === hotkey)) return reject(Reason.HOTKEY_NOT_REGISTERED, `${hotkey} is not in the registry`, 'miner_hotkey');
  return null;
}

function reservationGate(book: AdmissionBook, w: WindowState, cfg: AdmissionConfig, req: SubmissionPrecommitRequest, arrivalTs: number): Rejection | null {
  const { quotas } = cfg.profile;
  const end = collectionEnd(w, cfg.profile.window);
  if (book.sealed || arrivalTs > end) return reject(Reason.PRECOMMIT_EXPIRED, book.sealed ? 'the window is sealing' : `arrived ${(arrivalTs - end).toFixed(3)} s after the collection deadline`);
  const env = req.environment;
  if ((book.receiptsPerEnv.get(env) ?? 0) >= quotas.receiptsPerEnv) return reject(Reason.BATCH_FILLED, `${quotas.receiptsPerEnv} receipts already issued for ${env}`);
  if ((book.receiptsPerHotkey.get(req.miner_hotkey) ?? 0) >= quotas.precommitsPerHotkey) return reject(Reason.BATCH_FILLED, 'this hotkey holds its maximum of receipts');
  const bytes = book.bytesPerEnv.get(env) ?? 0;
  if (bytes + req.payload_bytes > cfg.byteBudgetPerEnv) return reject(Reason.BATCH_FILLED, `byte budget of ${env}: ${bytes} + ${req.payload_bytes} > ${cfg.byteBudgetPerEnv}`);
  return null;
}

/** Gate B's answer, and the receipt to hand to the worker when the reveal was queued. */
export interface RevealOutcome {
  readonly result: SubmitResult;
  readonly queued: Receipt | null;
  /** True when this was a replay answered from the stored outcome. */
  readonly replay: boolean;
}

/** What `/submit` may do before reading a body byte: read at most `maxBytes` until `deadlineTs`, or answer `result` unread. */
export type UploadAdmission =
  | { readonly ok: true; readonly maxBytes: number; readonly deadlineTs: number }
  | { readonly ok: false; readonly result: SubmitResult; readonly replay: boolean; readonly consumed: boolean };

const UNKNOWN_RECEIPT = 'unknown receipt, or a receipt of another window';

/**
 * Gate B up to the body: unknown receipt (PRECOMMIT_INVALID) → stored outcome → an upload already in progress
 * (PRECOMMIT_INVALID, the receipt stays usable) → Content-Length ≠ committed (PRECOMMIT_INVALID) → arrived after
 * the deadline or the seal (PRECOMMIT_EXPIRED). The last two consume the receipt, exactly as `revealGate` would
 * once the body was read. On success the receipt is marked uploading until `revealGate` or `uploadAborted`.
 */
export function uploadGate(book: AdmissionBook, head: UploadHead): UploadAdmission {
  const r = book.receipts.get(head.receiptId);
  if (!r) return { ok: false, result: no(reject(Reason.PRECOMMIT_INVALID, UNKNOWN_RECEIPT)), replay: false, consumed: false };
  if (r.revealOutcome) return { ok: false, result: r.revealOutcome, replay: true, consumed: false };
  if (book.uploading.has(r.id)) {
    return { ok: false, result: no(reject(Reason.PRECOMMIT_INVALID, 'an upload of this receipt is already in progress; send the body once')), replay: false, consumed: false };
  }
  const failed = headFailure(book, r, head.contentLength, head.arrivalTs, 'the upload arrived');
  if (failed) {
    r.revealOutcome = failed;
    r.revealTs = head.arrivalTs;
    r.state = 'done';
    return { ok: false, result: failed, replay: false, consumed: true };
  }
  book.uploading.add(r.id);
  return { ok: true, maxBytes: r.request.payload_bytes, deadlineTs: r.uploadDeadlineTs };
}

/** The body of an admitted upload never arrived (the client went away): the receipt is pending again. */
export function uploadAborted(book: AdmissionBook, receiptId: string): void {
  book.uploading.delete(receiptId);
}

/** Gate B on one reveal; a queued reveal is appended to the env's queue in the book. */
export function revealGate(book: AdmissionBook, cfg: AdmissionConfig, upload: RevealUpload): RevealOutcome {
  const r = book.receipts.get(upload.receiptId);
  if (!r) return { result: no(reject(Reason.PRECOMMIT_INVALID, UNKNOWN_RECEIPT)), queued: null, replay: false };
  book.uploading.delete(r.id);
  if (r.revealOutcome) return { result: r.revealOutcome, queued: null, replay: true };
  const result = firstRevealFailure(book, cfg, r, upload);
  r.revealOutcome = result ?? { ok: true };
  r.revealTs = upload.completedTs;
  if (result) {
    r.state = 'done';
    return { result, queued: null, replay: false };
  }
  r.state = 'queued';
  r.body = upload.body;
  const q = book.queue.get(r.env) ?? [];
  q.push(r);
  book.queue.set(r.env, q);
  AdmissionBook.bump(book.queued, r.env);
  return { result: r.revealOutcome, queued: r, replay: false };
}

/** The checks of B that need no body: Content-Length ≠ committed, then `ts` after the deadline or the seal. */
function headFailure(book: AdmissionBook, r: Receipt, contentLength: number | null, ts: number, what: string): SubmitResult | null {
  const want = r.request.payload_bytes;
  if (contentLength !== want) return no(reject(Reason.PRECOMMIT_INVALID, `Content-Length ${contentLength ?? 'absent'}, committed ${want}`));
  if (ts > r.uploadDeadlineTs || book.sealed) {
    return no(reject(Reason.PRECOMMIT_EXPIRED, book.sealed ? `the window sealed before ${what}` : `${what} ${(ts - r.uploadDeadlineTs).toFixed(3)} s after upload_deadline_ts`));
  }
  return null;
}

function firstRevealFailure(book: AdmissionBook, cfg: AdmissionConfig, r: Receipt, u: RevealUpload): SubmitResult | null {
  const want = r.request.payload_bytes;
  const head = headFailure(book, r, u.contentLength, u.completedTs, 'the body finished');
  if (head) return head;
  if (u.body.byteLength !== want) return no(reject(Reason.PRECOMMIT_INVALID, `body of ${u.body.byteLength} bytes, committed ${want}`));
  if (hex(sha256(u.body)) !== r.request.payload_sha256.toLowerCase()) return no(reject(Reason.PRECOMMIT_INVALID, 'the body sha256 differs from payload_sha256'));
  const inQueue = book.queued.get(r.env) ?? 0;
  if (inQueue >= cfg.profile.quotas.queuePerEnv) return no(reject(Reason.BATCH_FILLED, `the ${r.env} queue holds ${inQueue} groups`));
  return null;
}
