/**
 * `MarketValidator`: the validator's `ValidatorService` (core/interfaces/transport.ts) over the window FSM, the
 * admission book and the seal (spec/market.md §1, §2, §8). Runtime-agnostic: the clock, the drand round function,
 * randomness for receipt ids, environments, tokenizer and detectors are injected; nothing here does I/O.
 *
 * Requests: `precommit` runs gate A inline; `submit` runs gate B and, when the reveal is queued, answers
 * `submitted` at once while an in-process worker grades the queue (C–F) and records the verdicts; `idle()`
 * resolves when the queue is empty. `admitUpload` runs the bodiless part of gate B before the server reads a
 * `/submit` body (unknown, consumed or expired receipts are answered unread; the read is capped at the receipt's
 * `payload_bytes`); each queued body is parsed through the `parseReveal` seam (default in-process and bounded;
 * hosts/node/reveal-parser-pool.ts runs it in worker threads with a time budget) before it is graded. The host drives the window: `open` (READY → OPEN, a fresh book), `sealPoll`
 * (keep collecting, wait for receipts, or seal), `freeze` (OPEN → TRAINING: the pool becomes immutable), `seal`
 * (rank, prove, pay, commit the cooldowns, sign the archive; TRAINING → PUBLISHING) and `archived` (PUBLISHING →
 * READY once the archive is enqueued). `/state` answers 503 while no window is installed (READY).
 *
 * @example
 *   const v = new MarketValidator({ profile: DEVNET, envs: { arith }, tokenizer, clock, roundAt: beacon.roundAt, market });
 *   v.open({ now, openRound, randomness, registry }); // behind httpServer(v, …); at the deadline:
 *   await v.idle(); v.freeze(now); const r = await v.seal({ prove, signer, sealRandomness });
 *   await store.put(archiveKey(signer.ss58, r.archive.window_start), bytes); v.archived();
 */
import type { RegistrySnapshot } from '../interfaces/chain.ts';
import { operatorMap } from '../interfaces/chain.ts';
import type { Environment } from '../interfaces/environment.ts';
import type { CheckpointManifest, HealthReport, PrecommitResult, RevealUpload, UploadHead, UploadPermit } from '../interfaces/transport.ts';
import type { StateResult, SubmitResult, ValidatorService } from '../interfaces/transport.ts';
import { generationContract, type Profile } from '../profile/index.ts';
import { Reason, reject } from '../protocol/reasons.ts';
import type { Signer } from '../protocol/sr25519.ts';
import type { GrpoBatchState, SubmissionPrecommitRequest, Verdict } from '../protocol/wire.ts';
import { inProcessRevealParser, type RevealParser } from '../protocol/reveal-body.ts';
import { precommitGate, randomReceiptId, revealGate, uploadAborted, uploadGate, type AdmissionConfig } from './admission.ts';
import { commitReveal, gradeRevealJsonAsync, parseRejected, type GradeResult, type WorkerDeps } from './admission-worker.ts';
import { resetAccumulator } from './accumulator.ts';
import { AdmissionBook, CLOSED_CONTEXT, type PoolEntry, type Receipt } from './book.ts';
import { hasRolloutHash, indexCooldownSet, isContentCooling, isIndexCooling } from './cooldown.ts';
import { fillTarget, isFilled, isFillClosed } from './fill.ts';
import { journalAccepted, restoreBook, type BeforeAccept, type JournalGroup } from './journal.ts';
import { sealWindow, type MarketState, type ProveEntry, type SealResult } from './seal.ts';
import { emptyDebts, type DebtLedger, type SelectBounds } from './select.ts';
import { VerdictLog } from './verdicts.ts';
import * as fsm from './window.ts';

export interface MarketValidatorOptions extends Omit<WorkerDeps, 'profile' | 'envs'> {
  readonly profile: Profile;
  /** The environments this validator runs, by wire name. */
  readonly envs: Readonly<Record<string, Environment>>;
  /** Unix seconds. */
  readonly clock: () => number;
  /** The drand round current at a unix time (the beacon's `roundAt`). */
  readonly roundAt: (unixSeconds: number) => number;
  /** Cooldowns, hashes and accumulator carried across windows. */
  readonly market: MarketState;
  /** The next window number (from `recoverWindows`); default 0. */
  readonly nextWindow?: number;
  /** Random bytes for receipt ids (default `crypto.getRandomValues`). */
  readonly randomBytes?: (n: number) => Uint8Array;
  /** Payload bytes reservable per env per window (default 1 GiB). */
  readonly byteBudgetPerEnv?: number;
  /** The published checkpoint (`checkpoint_n`, manifest); none before the first publish. */
  readonly checkpoint?: CheckpointManifest | null;
  /** Makes a group committed to the pool durable (journal.ts); awaited before `accepted` is published; a throw withdraws it. */
  readonly beforeAccept?: BeforeAccept;
}

/** What opening a window needs (market §1.1–§1.3). */
export interface OpenWindow {
  readonly now: number;
  readonly openRound: number;
  readonly randomness: string;
  /** The registry snapshot of this window top; null when none could be read (every precommit: unavailable). */
  readonly registry: RegistrySnapshot | null;
  readonly debts?: DebtLedger;
  /** The pinned revision (default: the current checkpoint's); a resumed window keeps the one it opened with. */
  readonly checkpointRevision?: string;
}

/** What sealing needs besides the frozen pool. */
export interface SealWindow {
  readonly prove: ProveEntry;
  readonly signer: Signer;
  readonly sealRandomness: string;
  readonly failure?: { readonly stage: string; readonly type: string };
  readonly bounds?: Partial<SelectBounds>;
}

const DEFAULT_BYTE_BUDGET = 1024 * 1024 * 1024;

export class MarketValidator implements ValidatorService {
  private fsm: fsm.WindowState;
  private book: AdmissionBook | null = null;
  private market: MarketState;
  private manifest: CheckpointManifest | null;
  private pumping: Promise<void> | null = null;
  private readonly cfg: AdmissionConfig;
  private readonly deps: WorkerDeps;
  private readonly log: VerdictLog;
  private readonly parseReveal: RevealParser;
  private readonly counters = { precommits: 0, receipts: 0, reveals: 0, accepted: 0, rejected: 0, windowsSealed: 0, windowsAborted: 0 };

  constructor(private readonly o: MarketValidatorOptions) {
    this.fsm = fsm.initialWindow(o.nextWindow ?? 0);
    this.market = o.market;
    this.manifest = o.checkpoint ?? null;
    const randomBytes = o.randomBytes ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)));
    this.cfg = { profile: o.profile, roundAt: o.roundAt, newReceiptId: () => randomReceiptId(randomBytes), byteBudgetPerEnv: o.byteBudgetPerEnv ?? DEFAULT_BYTE_BUDGET };
    this.deps = { ...o, profile: o.profile, envs: o.envs };
    this.log = new VerdictLog(o.profile.http.verdictRing, o.clock);
    this.parseReveal = o.parseReveal ?? inProcessRevealParser(o.profile);
  }

  /** The FSM state (read-only view). */
  get window(): fsm.WindowState {
    return this.fsm;
  }

  /** The cross-window market state. */
  get marketState(): MarketState {
    return this.market;
  }

  /** The current window's book (null in READY). */
  get currentBook(): AdmissionBook | null {
    return this.book;
  }

  /** The pinned checkpoint revision (`""` before the first publish). */
  private get revision(): string {
    return this.manifest?.revision ?? '';
  }

  /** READY → OPEN: a fresh book pinned to the current checkpoint, registry and cooldowns. */
  open(w: OpenWindow): void {
    if (!this.market.contentCooldown.complete) throw new Error('the content cooldown is not complete: windows stay closed until it is rebuilt');
    this.fsm = fsm.activate(this.fsm, { now: w.now, openRound: w.openRound, randomness: w.randomness });
    const window = this.fsm.windowN;
    const market = this.market;
    this.book = new AdmissionBook({
      window,
      openedAt: w.now,
      openRound: w.openRound,
      randomness: w.randomness,
      checkpointRevision: w.checkpointRevision ?? this.revision,
      envSizes: Object.fromEntries(Object.entries(this.o.envs).map(([n, e]) => [n, e.size])),
      registry: w.registry,
      operators: w.registry ? operatorMap(w.registry) : new Map(),
      indexInCooldown: (env, idx) => isIndexCooling(market.indexCooldown, env, idx, window),
      rolloutHashSeen: (h) => hasRolloutHash(market.rolloutHashes, h, window),
      debts: w.debts ?? emptyDebts(),
    });
  }

  /** A restart: reopens the journaled window with its activation stamps and rebuilds its book from the journal. */
  restore(w: OpenWindow, groups: readonly JournalGroup[]): void {
    this.open(w);
    restoreBook(this.requireBook(), groups);
  }

  /** Empties the accumulator (market §5: after every training attempt). */
  resetAccumulator(): void {
    this.market = { ...this.market, accumulator: resetAccumulator(this.market.accumulator) };
  }

  /** The seal poll at `now` (market §1.4). */
  sealPoll(now: number): fsm.SealDecision {
    const book = this.requireBook();
    const q = this.o.profile.quotas;
    const envs = Object.keys(book.ctx.envSizes);
    // Early force-seal (market §1.4): every env's gradings used up, too few distinct prompts, nothing queued.
    const forceSeal =
      book.inFlight() === 0 &&
      envs.every((e) => (book.gradingsStarted.get(e) ?? 0) >= q.gradingsPerEnv && new Set((book.pool.get(e) ?? []).map((x) => x.promptIdx)).size < q.forceSealMinDistinctPrompts);
    // Fill-closed (fill.ts): N valid, distinct, in-zone, uncooled groups in every env of the mix close the window.
    const market = this.market;
    const filled =
      isFillClosed(this.o.profile) &&
      isFilled(book.pool, this.o.profile.environmentMix.map(([e]) => e).filter((e) => envs.includes(e)), fillTarget(this.o.profile), (env, idx, content) =>
        isIndexCooling(market.indexCooldown, env, idx, book.ctx.window) || isContentCooling(market.contentCooldown, content, book.ctx.window));
    return fsm.sealDecision(this.fsm, now, { pendingReceiptDeadlines: book.pendingDeadlines(now), forceSeal, filled }, this.o.profile.window);
  }

  /** OPEN → TRAINING: the seal snapshot; nothing enters the pool afterwards. Call after `idle()`. */
  freeze(now: number): Readonly<Record<string, readonly PoolEntry[]>> {
    const book = this.requireBook();
    this.fsm = fsm.seal(this.fsm, now);
    book.sealed = true;
    return Object.fromEntries(Object.keys(this.o.envs).map((env) => [env, [...(book.pool.get(env) ?? [])]]));
  }

  /** Aborts the open window (drain timeout, invalid beacon): it will archive as a tombstone. */
  abort(now: number, failure: { stage: string; type: string }): void {
    this.requireBook().sealed = true;
    this.fsm = fsm.abort(this.fsm, now, failure);
  }

  /** Seals the frozen window: the auction, payout, commits and the signed archive; TRAINING → PUBLISHING. */
  async seal(s: SealWindow): Promise<SealResult> {
    const book = this.requireBook();
    const failure = s.failure ?? this.fsm.failure ?? undefined;
    if (this.fsm.phase === 'open') throw new fsm.WindowTransitionError('seal: freeze the window first');
    const result = await sealWindow({
      profile: this.o.profile,
      window: this.fsm.windowN,
      randomness: this.fsm.randomness,
      sealRandomness: s.sealRandomness,
      checkpointRevision: book.ctx.checkpointRevision,
      openRound: book.ctx.openRound,
      pools: Object.fromEntries(Object.keys(this.o.envs).map((env) => [env, book.pool.get(env) ?? []])),
      prove: s.prove,
      state: this.market,
      signer: s.signer,
      rejectSummary: Object.fromEntries(book.rejects),
      ...(failure ? { failure } : {}),
      debts: book.ctx.debts,
      ...(s.bounds ? { bounds: s.bounds } : {}),
    });
    if (this.fsm.phase === 'training') {
      this.fsm = fsm.finishTraining(this.fsm, result.status, result.status === 'aborted' ? { stage: result.archive.failure_stage ?? 'seal', type: result.archive.failure_type ?? '' } : undefined);
    }
    this.market = result.state;
    this.recordSeal(book, result);
    if (result.status === 'completed') this.counters.windowsSealed++;
    else this.counters.windowsAborted++;
    return result;
  }

  /** PUBLISHING → READY once the window's one archive is enqueued; the book is dropped. */
  archived(): void {
    this.fsm = fsm.archived(this.fsm, this.fsm.windowN);
    this.book = null;
  }

  /** Installs a newly published checkpoint (pinned from the next window on). */
  setCheckpoint(manifest: CheckpointManifest): void {
    this.manifest = manifest;
  }

  /** Resolves when no reveal is queued or grading. */
  async idle(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  state(env?: string): StateResult {
    const book = this.book;
    if (!book || this.fsm.phase === 'ready') return { ok: false, error: 'no_active_window', message: 'no window is installed; retry shortly' };
    const names = Object.keys(book.ctx.envSizes);
    const name = env ?? names[0]!;
    if (!(name in book.ctx.envSizes)) return { ok: false, error: 'unknown_env', message: `this window runs ${names.join(', ')}` };
    const p = this.o.profile;
    const value = {
      state: this.fsm.phase,
      window_n: book.ctx.window,
      anchor_block: book.ctx.window,
      cooldown_prompts: indexCooldownSet(this.market.indexCooldown, name, book.ctx.window),
      valid_submissions: book.pool.get(name)?.length ?? 0,
      checkpoint_n: this.manifest?.checkpoint_n ?? 0,
      checkpoint_repo_id: this.manifest?.repo_id ?? null,
      checkpoint_revision: this.manifest ? this.manifest.revision : null,
      protocol_version: p.protocolVersion,
      generation_profile_id: p.id,
      generation_contract: generationContract(p),
      randomness: book.ctx.randomness,
    } as GrpoBatchState;
    return { ok: true, value };
  }

  precommit(request: SubmissionPrecommitRequest, arrivalTs: number): PrecommitResult {
    this.counters.precommits++;
    const book = this.book;
    if (!book) return precommitGate(new AdmissionBook(CLOSED_CONTEXT), this.fsm, this.cfg, request, arrivalTs);
    const r = precommitGate(book, this.fsm, this.cfg, request, arrivalTs);
    if (r.ok) {
      this.counters.receipts++;
      return { ok: true, receipt: r.receipt };
    }
    AdmissionBook.bump(book.rejects, r.rejection.reason);
    if (r.signed) {
      const guest = !(book.ctx.registry?.neurons.some((n) => n.hotkey === request.miner_hotkey) ?? false);
      this.log.record(request.miner_hotkey, {
        merkle_root: request.merkle_root,
        window_n: book.ctx.window,
        accepted: false,
        reason: r.rejection.reason,
        reject_stage: 'precommit',
        submitted_drand_round: request.drand_round,
        arrival_drand_round: r.arrivalRound,
        drand_delta: request.drand_round - r.arrivalRound,
        precommit_arrival_ts: arrivalTs,
        accepted_into_pool: false,
      }, guest);
    }
    return { ok: false, rejection: r.rejection };
  }

  /** Gate B before the body (admission.ts `uploadGate`): read at most `maxBytes` until `deadlineTs`, or answer unread. */
  admitUpload(head: UploadHead): UploadPermit {
    const book = this.book ?? new AdmissionBook(CLOSED_CONTEXT);
    const r = uploadGate(book, head);
    if (r.ok) return r;
    this.counters.reveals++;
    if (r.consumed && !r.result.ok) AdmissionBook.bump(book.rejects, r.result.rejection.reason);
    return { ok: false, result: r.result };
  }

  /** The body of an admitted upload never arrived: its receipt may be revealed again. */
  uploadAborted(receiptId: string): void {
    if (this.book) uploadAborted(this.book, receiptId);
  }

  submit(upload: RevealUpload): SubmitResult {
    this.counters.reveals++;
    const book = this.book;
    if (!book) return revealGate(new AdmissionBook(CLOSED_CONTEXT), this.cfg, upload).result;
    const r = revealGate(book, this.cfg, upload);
    if (!r.replay && !r.result.ok) AdmissionBook.bump(book.rejects, r.result.rejection.reason);
    if (r.queued) {
      this.lifecycle(book, r.queued, { accepted: true, reason: Reason.SUBMITTED, arrival_ts: upload.arrivalTs, upload_precommit_status: 'revealed' });
      this.kick();
    }
    return r.result;
  }

  verdicts(hotkey: string, since: number): readonly Verdict[] {
    return this.log.since(hotkey, since);
  }

  checkpoint(): CheckpointManifest | null {
    return this.manifest;
  }

  health(): HealthReport {
    const book = this.book;
    return {
      status: 'ok',
      state: this.fsm.phase,
      window_n: this.fsm.windowN,
      profile_id: this.o.profile.id,
      checkpoint_n: this.manifest?.checkpoint_n ?? 0,
      pool: book ? Object.fromEntries([...book.pool].map(([e, p]) => [e, p.length])) : {},
      queued: book ? book.inFlight() : 0,
      reject_summary: book ? Object.fromEntries(book.rejects) : {},
      ...this.counters,
    };
  }

  private kick(): void {
    if (!this.pumping) this.pumping = this.pump().finally(() => (this.pumping = null));
  }

  /** Grades queued reveals one at a time, env by env in turn, yielding between groups. */
  private async pump(): Promise<void> {
    for (;;) {
      await Promise.resolve();
      const book = this.book;
      const next = book ? this.dequeue(book) : null;
      if (!book || !next) return;
      next.state = 'grading';
      const body = next.body ?? new Uint8Array();
      let graded: GradeResult;
      try {
        const json = await this.parseReveal(body);
        graded = json.ok ? await gradeRevealJsonAsync(next, json.value, book.ctx, this.deps) : parseRejected(json.rejection);
      } catch (e) {
        // A throw here is the validator's own fault (environment, tokenizer): drop and refund.
        const rejection = reject(Reason.WORKER_DROPPED, `validator fault while grading: ${e instanceof Error ? e.message : String(e)}`);
        graded = { request: null, authenticated: false, rejection, validatorDrop: true, group: null };
      }
      const now = this.o.clock();
      const c = await journalAccepted(this.o.beforeAccept, book, commitReveal(book, this.o.profile, next, graded, now), next, body);
      AdmissionBook.bump(book.queued, next.env, -1);
      if (c.entry) this.counters.accepted++;
      else this.counters.rejected++;
      const sigma = graded.sigma ?? null;
      if (c.rejection) {
        this.lifecycle(book, next, { accepted: false, reason: c.rejection.reason, reject_stage: 'admission', reject_reason: c.rejection.message.slice(0, 240), accepted_into_pool: false, sigma });
      } else {
        this.lifecycle(book, next, { accepted: true, reason: Reason.ACCEPTED, accepted_into_pool: true, sigma, decision_ts: now });
      }
    }
  }

  private dequeue(book: AdmissionBook): Receipt | null {
    for (const q of book.queue.values()) {
      const r = q.shift();
      if (r) return r;
    }
    return null;
  }

  private lifecycle(book: AdmissionBook, r: Receipt, extra: Partial<Verdict>): void {
    this.log.record(r.hotkey, {
      merkle_root: r.request.merkle_root,
      window_n: book.ctx.window,
      accepted: false,
      reason: Reason.SUBMITTED,
      precommit_arrival_ts: r.arrivalTs,
      submitted_drand_round: r.request.drand_round,
      arrival_drand_round: r.arrivalRound,
      payload_bytes: r.request.payload_bytes,
      ...extra,
    } as Omit<Verdict, 'ts'>);
  }

  /** The seal record of every pool entry: selected/rewarded/rank, or the proof failure. */
  private recordSeal(book: AdmissionBook, result: SealResult): void {
    const finals = new Map(result.finals.map((f) => [f.id, f]));
    for (const e of book.allPool()) {
      const f = finals.get(e.id);
      const receipt = book.receipts.get(e.receiptId);
      if (!receipt) continue;
      const failed = f?.reason ?? null;
      this.lifecycle(book, receipt, {
        accepted: failed === null,
        reason: failed ?? Reason.ACCEPTED,
        accepted_into_pool: true,
        selected_for_batch: f?.selected ?? false,
        rewarded: f?.rewarded ?? false,
        sigma: e.sigma,
        ...(f ? { canonical_rank: f.rank } : {}),
        ...(failed ? { reject_stage: 'auction_seal' } : result.status === 'aborted' ? { reject_stage: 'window_aborted' } : {}),
      });
    }
  }

  private requireBook(): AdmissionBook {
    if (!this.book) throw new fsm.WindowTransitionError(`window ${this.fsm.windowN} is ${this.fsm.phase}: no window is installed`);
    return this.book;
  }
}
