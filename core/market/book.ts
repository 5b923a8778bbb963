/**
 * The admission book of one activated window: every piece of mutable admission state in one explicit object
 * (spec/market.md §2) — receipts and their idempotency index, per-hotkey quota, per-env reservations (receipts
 * and bytes), the reveal queue, gradings started, (operator, prompt) claims and the pending pool.
 *
 * The gates that read and write it live in `admission.ts` (A precommit, B reveal) and `admission-worker.ts`
 * (C–F); the seal reads the frozen pool. Two sets track what a receipt is doing besides its `state`: `uploading`
 * (a `/submit` body is being read for it; a second upload is refused) and `released` (not revealed by its upload
 * deadline, and its quota unit, receipt count and bytes given back: `releaseExpired`, profile knob
 * `admission.releaseUnrevealed`); a released receipt stays known, so a late reveal still answers PRECOMMIT_EXPIRED. A book belongs to exactly one window: a receipt of another window is
 * simply unknown to it. `WindowContext` is what the window fixed at activation (randomness, rounds, checkpoint,
 * registry snapshot, cooldown predicates); it never changes while the window collects.
 *
 * @example
 *   const book = new AdmissionBook(ctx);
 *   const r = precommitGate(book, cfg, request, arrivalTs); // admission.ts
 *   book.pool.get('arith')?.length;                         // groups in the pool
 */
import type { RegistrySnapshot } from '../interfaces/chain.ts';
import type { SubmitResult } from '../interfaces/transport.ts';
import type { ParsedSubmission, SubmissionPrecommitRequest } from '../protocol/wire.ts';
import type { AuctionCandidate } from './auction.ts';
import { emptyDebts, type DebtLedger } from './select.ts';

/** What a window fixed at activation; read-only while it collects. */
export interface WindowContext {
  readonly window: number;
  readonly openedAt: number;
  readonly openRound: number;
  /** The window randomness (64 hex). */
  readonly randomness: string;
  /** The pinned checkpoint revision; `""` while none is published (the checkpoint gate is then skipped). */
  readonly checkpointRevision: string;
  /** env name → number of problems (`len(env)`). */
  readonly envSizes: Readonly<Record<string, number>>;
  /** The registry snapshot read at the window top; null when none could be read. */
  readonly registry: RegistrySnapshot | null;
  /** hotkey → operator (coldkey), from the same snapshot (`operatorMap`). */
  readonly operators: ReadonlyMap<string, string>;
  /** Advertised index cooldown. */
  readonly indexInCooldown: (env: string, promptIdx: number) => boolean;
  /** Cross-window rollout-hash set (winners of the last `rolloutHashWindows` windows). */
  readonly rolloutHashSeen: (hash: string) => boolean;
  /** Proof debts carried into this window (market §2 E). */
  readonly debts: DebtLedger;
}

/** One issued receipt and its lifecycle. */
export interface Receipt {
  readonly id: string;
  readonly env: string;
  readonly hotkey: string;
  readonly request: SubmissionPrecommitRequest;
  /** The validator's arrival time and drand round of the precommit (the rank key uses the round). */
  readonly arrivalTs: number;
  readonly arrivalRound: number;
  readonly uploadDeadlineTs: number;
  /** pending: not revealed yet; queued/grading: revealed, in the worker; done: verdict recorded. */
  state: 'pending' | 'queued' | 'grading' | 'done';
  /** The answer to its first reveal, returned again to every replay. */
  revealOutcome: SubmitResult | null;
  /** The exact revealed bytes while queued. */
  body: Uint8Array | null;
  /** When the reveal's last byte arrived. */
  revealTs: number | null;
}

/** A group in the pending pool: an auction candidate plus what the seal, the archive and training need. */
export interface PoolEntry extends AuctionCandidate {
  readonly env: string;
  readonly receiptId: string;
  readonly merkleRoot: string;
  /** Validator rewards, one per rollout. */
  readonly rewards: readonly number[];
  /** sha256 over the u32-BE full tokens of each rollout. */
  readonly rolloutHashes: readonly string[];
  readonly promptText: string;
  readonly groundTruth: string;
  readonly completionTexts: readonly string[];
  /** The authenticated submission (the seal's proof reads it). */
  readonly submission: ParsedSubmission;
  readonly acceptedTs: number;
}

const claimKey = (env: string, operator: string, promptIdx: number): string => `${env}\u0000${operator}\u0000${promptIdx}`;

/** The mutable admission state of one window. */
export class AdmissionBook {
  readonly receipts = new Map<string, Receipt>();
  /** precommit signature (lowercase hex) → receipt id: a repeated signature gets the same receipt. */
  readonly bySignature = new Map<string, string>();
  /** Quota units used per hotkey (precommit = 1, reveal = 0, validator-side drop refunds). */
  readonly quota = new Map<string, number>();
  readonly receiptsPerEnv = new Map<string, number>();
  readonly receiptsPerHotkey = new Map<string, number>();
  readonly bytesPerEnv = new Map<string, number>();
  /** Revealed receipts waiting for the worker, per env, in arrival order. */
  readonly queue = new Map<string, Receipt[]>();
  /** Queued plus grading, per env (the queue cap counts both). */
  readonly queued = new Map<string, number>();
  readonly gradingsStarted = new Map<string, number>();
  /** (env, operator, prompt) → receipt id that claimed it. */
  readonly claims = new Map<string, string>();
  readonly pool = new Map<string, PoolEntry[]>();
  /** Reject counts of the window, by reason (archive `reject_summary`, quarantine input). */
  readonly rejects = new Map<string, number>();
  /** The seal snapshot has begun: nothing more enters the pool. */
  sealed = false;
  /** Receipts whose `/submit` body is being read now. */
  readonly uploading = new Set<string>();
  /** Receipts released unrevealed after their upload deadline (their reservations were given back). */
  readonly released = new Set<string>();

  constructor(readonly ctx: WindowContext) {}

  /** Adds `n` to a counter map. */
  static bump<K>(m: Map<K, number>, k: K, n = 1): void {
    m.set(k, (m.get(k) ?? 0) + n);
  }

  /** Groups in the pool on (env, prompt). */
  promptCount(env: string, promptIdx: number): number {
    return (this.pool.get(env) ?? []).filter((e) => e.promptIdx === promptIdx).length;
  }

  /** The receipt id holding the (env, operator, prompt) claim, if any. */
  claimOf(env: string, operator: string, promptIdx: number): string | undefined {
    return this.claims.get(claimKey(env, operator, promptIdx));
  }

  claim(env: string, operator: string, promptIdx: number, receiptId: string): void {
    this.claims.set(claimKey(env, operator, promptIdx), receiptId);
  }

  /** Cancels a claim (validator-side WORKER_DROPPED), only if `receiptId` holds it. */
  cancelClaim(env: string, operator: string, promptIdx: number, receiptId: string): void {
    const k = claimKey(env, operator, promptIdx);
    if (this.claims.get(k) === receiptId) this.claims.delete(k);
  }

  /** Upload deadlines of receipts issued but not revealed and not yet expired at `now` (the seal waits on them). */
  pendingDeadlines(now: number): number[] {
    return [...this.receipts.values()].filter((r) => r.state === 'pending' && r.uploadDeadlineTs > now).map((r) => r.uploadDeadlineTs);
  }

  /**
   * Releases every receipt still pending (not revealed, no upload in progress) whose upload deadline is before
   * `now`: its quota unit, its per-env and per-hotkey receipt counts and its reserved bytes come back. Returns how
   * many were released.
   */
  releaseExpired(now: number): number {
    let n = 0;
    for (const r of this.receipts.values()) {
      if (r.state !== 'pending' || r.uploadDeadlineTs >= now || this.uploading.has(r.id) || this.released.has(r.id)) continue;
      this.released.add(r.id);
      AdmissionBook.bump(this.quota, r.hotkey, -1);
      AdmissionBook.bump(this.receiptsPerEnv, r.env, -1);
      AdmissionBook.bump(this.receiptsPerHotkey, r.hotkey, -1);
      AdmissionBook.bump(this.bytesPerEnv, r.env, -r.request.payload_bytes);
      n++;
    }
    return n;
  }

  /** Reveals queued or grading, over all envs. */
  inFlight(): number {
    let n = 0;
    for (const v of this.queued.values()) n += v;
    return n;
  }

  /** Conservation (market §1.5): issued = done + queued/grading + pending + expired, per state at `now`. */
  conservation(now: number): { issued: number; terminal: number; inFlight: number; pending: number; expired: number; ok: boolean } {
    let terminal = 0;
    let inFlight = 0;
    let pending = 0;
    let expired = 0;
    for (const r of this.receipts.values()) {
      if (r.state === 'done') terminal++;
      else if (r.state === 'queued' || r.state === 'grading') inFlight++;
      else if (r.uploadDeadlineTs > now) pending++;
      else expired++;
    }
    const issued = this.receipts.size;
    return { issued, terminal, inFlight, pending, expired, ok: issued === terminal + inFlight + pending + expired };
  }

  /** Every pool entry of every env, in env then acceptance order. */
  allPool(): PoolEntry[] {
    return [...this.pool.values()].flat();
  }
}

/** The context of a book that exists only to refuse (no window installed): every gate sees nothing. */
export const CLOSED_CONTEXT: WindowContext = Object.freeze({
  window: -1,
  openedAt: 0,
  openRound: 0,
  randomness: '',
  checkpointRevision: '',
  envSizes: {},
  registry: null,
  operators: new Map<string, string>(),
  indexInCooldown: () => false,
  rolloutHashSeen: () => false,
  debts: emptyDebts(),
});
