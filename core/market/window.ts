/**
 * The window state machine (spec/market.md §1) as an explicit value with pure transitions.
 *
 *   READY ──activate──▶ OPEN ──seal──▶ TRAINING ──finish──▶ PUBLISHING ──archived──▶ READY
 *                         └──────────abort (drain timeout, invalid beacon)──────────▲
 *
 * - `activate` stamps `openedAt` and the open drand round; the deadline is fixed there and never moves:
 *   collection ends at `openedAt + collectionSeconds` (the seal time), and no reveal is waited for past
 *   `openedAt + collectionSeconds + uploadGraceSeconds`.
 * - A receipt issued at `t` may be revealed until `min(t + grace, open + collection + grace)` ({@link revealDeadline}).
 * - `sealDecision` says, at a poll time, whether the window keeps collecting, waits for pending receipts (bounded
 *   by the grace), or seals now (deadline reached, early force-seal, filled in a fill-closed window, or backstop).
 * - `window_n` is monotone: the next window is always `windowN + 1`, and a restart recovers it from what the store
 *   holds ({@link recoverWindows}): the largest archived or activated window + 1, plus a tombstone owed to every
 *   activated window that never archived, so each activated window ends with exactly one archive.
 *
 * Nothing here reads a clock: every transition takes the time it happens at.
 *
 * @example
 *   let w = initialWindow(recoverWindows(archived, activated).nextWindow);
 *   w = activate(w, { now, openRound, randomness });            // OPEN, window w.windowN
 *   if (sealDecision(w, now2, pending).action === 'seal') w = seal(w, now2);
 *   w = finishTraining(w, 'completed');                          // PUBLISHING
 *   w = archived(w, w.windowN);                                  // READY, windowN + 1
 */
import type { Profile } from '../profile/index.ts';

/** The FSM phases (`/state.state` on the wire). */
export type WindowPhase = 'ready' | 'open' | 'training' | 'publishing';

/** The window clocks of a profile. */
export type WindowClock = Pick<Profile['window'], 'collectionSeconds' | 'uploadGraceSeconds' | 'sealBackstopSeconds'>;

/** The window state. `windowN` is the active window in OPEN/TRAINING/PUBLISHING and the next one in READY. */
export interface WindowState {
  readonly phase: WindowPhase;
  readonly windowN: number;
  /** Activation time (unix seconds); null in READY. */
  readonly openedAt: number | null;
  /** The drand round the window opened on; null in READY. */
  readonly openRound: number | null;
  /** The window randomness (64 hex); `""` in READY. */
  readonly randomness: string;
  /** When the seal snapshot was taken; null until sealed. */
  readonly sealedAt: number | null;
  /** How the active window ends: set by `finishTraining` or `abort`. */
  readonly outcome: 'completed' | 'aborted' | null;
  /** Why it was aborted (tombstone `failure_stage`), when it was. */
  readonly failure: { readonly stage: string; readonly type: string } | null;
  /** The last window that got its archive (−1: none yet). */
  readonly lastArchived: number;
}

/** A transition refused because the FSM is in another phase (a host bug, never a miner's doing). */
export class WindowTransitionError extends Error {
  override readonly name = 'WindowTransitionError';
}

function expectPhase(s: WindowState, phase: WindowPhase | readonly WindowPhase[], what: string): void {
  const ok = typeof phase === 'string' ? s.phase === phase : phase.includes(s.phase);
  if (!ok) throw new WindowTransitionError(`${what}: window ${s.windowN} is ${s.phase}, expected ${String(phase)}`);
}

/** READY before window `nextWindow` (from {@link recoverWindows} on a restart, 0 on a fresh store). */
export function initialWindow(nextWindow: number, lastArchived = nextWindow - 1): WindowState {
  if (!Number.isSafeInteger(nextWindow) || nextWindow < 0) throw new RangeError(`window number ${nextWindow} is not a non-negative integer`);
  return { phase: 'ready', windowN: nextWindow, openedAt: null, openRound: null, randomness: '', sealedAt: null, outcome: null, failure: null, lastArchived };
}

/** What a restart finds: the next window number, and the activated windows that still owe an archive. */
export interface RecoveredWindows {
  readonly nextWindow: number;
  /** Activated windows with no archive: each gets a tombstone (`failure_stage: "restart"`) before the next opens. */
  readonly owedTombstones: readonly number[];
}

/**
 * Recovers the window counter from the windows that have an archive and those recorded as activated (a durable
 * marker written at activation): next = max of both + 1 (0 when both are empty), so `window_n` never repeats.
 */
export function recoverWindows(archivedWindows: Iterable<number>, activatedWindows: Iterable<number> = []): RecoveredWindows {
  const archived = new Set(archivedWindows);
  let max = -1;
  for (const w of archived) max = Math.max(max, w);
  const owed: number[] = [];
  for (const w of new Set(activatedWindows)) {
    max = Math.max(max, w);
    if (!archived.has(w)) owed.push(w);
  }
  return { nextWindow: max + 1, owedTombstones: owed.sort((a, b) => a - b) };
}

/** READY → OPEN: stamps the activation time, the open round and the randomness; the deadline counts from here. */
export function activate(s: WindowState, at: { readonly now: number; readonly openRound: number; readonly randomness: string }): WindowState {
  expectPhase(s, 'ready', 'activate');
  if (!/^[0-9a-f]{64}$/.test(at.randomness)) throw new RangeError(`window randomness must be 64 lowercase hex, got "${at.randomness}"`);
  return { ...s, phase: 'open', openedAt: at.now, openRound: at.openRound, randomness: at.randomness, sealedAt: null, outcome: null, failure: null };
}

/** `openedAt + collectionSeconds`: precommits after it are PRECOMMIT_EXPIRED and the seal is due. */
export function collectionEnd(s: WindowState, clock: WindowClock): number {
  if (s.openedAt === null) throw new WindowTransitionError(`window ${s.windowN} has not been activated`);
  return s.openedAt + clock.collectionSeconds;
}

/** `openedAt + collection + grace`: the last moment any reveal of this window can finish. */
export function graceEnd(s: WindowState, clock: WindowClock): number {
  return collectionEnd(s, clock) + clock.uploadGraceSeconds;
}

/** The upload deadline of a receipt issued at `precommitTs`: `min(precommitTs + grace, open + collection + grace)`. */
export function revealDeadline(s: WindowState, precommitTs: number, clock: WindowClock): number {
  return Math.min(precommitTs + clock.uploadGraceSeconds, graceEnd(s, clock));
}

/** True while precommits are taken: OPEN, not sealed, and `now ≤ open + collection`. */
export function isCollecting(s: WindowState, now: number, clock: WindowClock): boolean {
  return s.phase === 'open' && s.sealedAt === null && now <= collectionEnd(s, clock);
}

/** What the collection side reports at a seal poll. */
export interface SealInputs {
  /** Upload deadlines of receipts issued but neither revealed nor expired. */
  readonly pendingReceiptDeadlines: readonly number[];
  /** Early force-seal: gradings used up, fewer than the minimum distinct pending prompts, and the queue empty. */
  readonly forceSeal?: boolean;
  /** Fill-closed windows (fill.ts): N valid, distinct, in-zone groups have landed in every environment. */
  readonly filled?: boolean;
}

/** The seal poll's answer. */
export type SealDecision =
  | { readonly action: 'collect' }
  | { readonly action: 'wait_receipts'; readonly until: number }
  | { readonly action: 'seal'; readonly trigger: 'deadline' | 'grace_exhausted' | 'force_seal' | 'backstop' | 'filled' };

/**
 * Whether to seal at `now` (market §1.4): before the deadline keep collecting (unless force-sealed, or filled in a
 * fill-closed window: seal at once, receipts still pending lose the race); after it, wait for pending receipts but
 * never past `open + collection + grace`; the backstop always seals.
 */
export function sealDecision(s: WindowState, now: number, inputs: SealInputs, clock: WindowClock): SealDecision {
  expectPhase(s, 'open', 'sealDecision');
  const open = s.openedAt!;
  if (now >= open + clock.sealBackstopSeconds) return { action: 'seal', trigger: 'backstop' };
  const end = collectionEnd(s, clock);
  if (now < end && inputs.filled) return { action: 'seal', trigger: 'filled' };
  if (now < end) return inputs.forceSeal ? { action: 'seal', trigger: 'force_seal' } : { action: 'collect' };
  const limit = graceEnd(s, clock);
  const live = inputs.pendingReceiptDeadlines.filter((d) => d > now);
  if (live.length === 0) return { action: 'seal', trigger: 'deadline' };
  if (now >= limit) return { action: 'seal', trigger: 'grace_exhausted' };
  return { action: 'wait_receipts', until: Math.min(limit, Math.max(...live)) };
}

/** OPEN → TRAINING: the seal snapshot is taken at `now`; the pool is immutable from here. */
export function seal(s: WindowState, now: number): WindowState {
  expectPhase(s, 'open', 'seal');
  return { ...s, phase: 'training', sealedAt: now };
}

/** TRAINING → PUBLISHING with the window's outcome (`aborted` when the auction or payout tombstoned it). */
export function finishTraining(s: WindowState, outcome: 'completed' | 'aborted', failure?: { stage: string; type: string }): WindowState {
  expectPhase(s, 'training', 'finishTraining');
  if (outcome === 'aborted' && !failure) throw new RangeError('an aborted window needs a failure stage and type');
  return { ...s, phase: 'publishing', outcome, failure: outcome === 'aborted' ? failure! : null };
}

/** OPEN or TRAINING → PUBLISHING as aborted (drain timeout, invalid beacon, validator fault). */
export function abort(s: WindowState, now: number, failure: { stage: string; type: string }): WindowState {
  expectPhase(s, ['open', 'training'], 'abort');
  return { ...s, phase: 'publishing', sealedAt: s.sealedAt ?? now, outcome: 'aborted', failure };
}

/**
 * PUBLISHING → READY once the archive of `window` is enqueued; the counter moves to `window + 1`. Refuses a
 * second archive of one window and an archive of another window than the active one.
 */
export function archived(s: WindowState, window: number): WindowState {
  expectPhase(s, 'publishing', 'archived');
  if (window !== s.windowN) throw new WindowTransitionError(`archive of window ${window} while window ${s.windowN} is publishing`);
  if (window <= s.lastArchived) throw new WindowTransitionError(`window ${window} already has an archive`);
  return initialWindow(window + 1, window);
}
