/**
 * Sealing one window (spec/market.md §1.6–§1.7, §3, §5, §7): from the frozen pools to a signed archive.
 *
 *   failure already known (invalid beacon, drain timeout) → tombstone
 *   per env, in parallel: rankCandidates (fill-closed profile: fillOrder, fill.ts) → selectWinners(prove)
 *     → any env aborted → tombstone (all envs discarded)
 *   computePayout (fail-closed checks; a PayoutError → tombstone)
 *   only now, for every env at once: index cooldown, content cooldown and rollout hashes of the winners
 *   quarantine → accumulate (unless quarantined) → build and sign the archive
 *
 * `sealWindow` is a pure function of its input (the proofs aside): it returns the new cross-window state instead
 * of writing it, so a tombstone leaves every piece of state exactly as it was — no cooldown, content or hash commit
 * in any env, nobody paid. The caller persists the state and enqueues the one archive.
 *
 * @example
 *   const r = await sealWindow({ profile, window, randomness, sealRandomness, checkpointRevision, openRound,
 *     pools, prove, state, signer, rejectSummary: {} });
 *   await store.put(archiveKey(signer.ss58, window), utf8(JSON.stringify(r.archive)));
 *   if (r.status === 'completed') state = r.state;
 */
import type { Profile } from '../profile/index.ts';
import type { ReasonCode } from '../protocol/reasons.ts';
import type { Signer } from '../protocol/sr25519.ts';
import { addWindow, isReady, type Accumulator } from './accumulator.ts';
import { buildTombstone, buildWindowArchive, signArchive, type ArchiveBatchRow, type Json, type WindowArchive } from './archive.ts';
import { rankCandidates, rankParams, type RankedCandidate } from './auction.ts';
import type { PoolEntry } from './book.ts';
import {
  isContentCooling,
  isIndexCooling,
  recordContentWinners,
  recordIndexWinners,
  recordRolloutHashes,
  type ContentCooldown,
  type IndexCooldown,
  type RolloutHashes,
} from './cooldown.ts';
import { fillOrder, isFillClosed } from './fill.ts';
import { computePayout, PayoutError, selectionFromOutcome, type Payout } from './payout.ts';
import { assessQuarantine, type QuarantineDecision } from './quarantine.ts';
import { boundsFromProfile, emptyDebts, selectWinners, type AuctionOutcome, type DebtLedger, type ProofResult, type SelectBounds } from './select.ts';

/** The cross-window state a sealed window commits to (and a tombstone leaves untouched). */
export interface MarketState {
  readonly indexCooldown: IndexCooldown;
  readonly contentCooldown: ContentCooldown;
  readonly rolloutHashes: RolloutHashes;
  readonly accumulator: Accumulator<PoolEntry>;
}

/** Proves one pool entry (sketches, log-probs, seed, termination…); the ranked view carries rank and key. */
export type ProveEntry = (entry: PoolEntry, ranked: RankedCandidate) => ProofResult | Promise<ProofResult>;

export interface SealInput {
  readonly profile: Profile;
  readonly window: number;
  readonly randomness: string;
  /** Post-deadline seal drand randomness, `""` when it could not be fetched. */
  readonly sealRandomness: string;
  readonly checkpointRevision: string;
  readonly openRound: number;
  /** The frozen pool of every env the window ran. */
  readonly pools: Readonly<Record<string, readonly PoolEntry[]>>;
  readonly prove: ProveEntry;
  readonly state: MarketState;
  readonly signer: Signer;
  /** This window's admission rejects by reason (archive, quarantine trigger). */
  readonly rejectSummary: Readonly<Record<string, number>>;
  /** A failure known before ranking (invalid beacon, drain timeout): tombstone at once. */
  readonly failure?: { readonly stage: string; readonly type: string };
  /** Proof debts carried into the auction (default none). */
  readonly debts?: DebtLedger;
  /** Selection overrides: clock, concurrency. */
  readonly bounds?: Partial<SelectBounds>;
}

/** The final verdict of one pool candidate (the `/verdicts` seal record). */
export interface FinalVerdict {
  readonly id: string;
  readonly env: string;
  readonly hotkey: string;
  readonly merkleRoot: string;
  readonly rank: number;
  readonly sigma: number;
  readonly selected: boolean;
  readonly rewarded: boolean;
  /** A failed proof's reject reason (stage `auction_seal`). */
  readonly reason: ReasonCode | null;
  readonly status: string;
}

export interface SealResult {
  readonly status: 'completed' | 'aborted';
  /** The one archive of this window, signed. */
  readonly archive: WindowArchive;
  /** The committed state (the input state, unchanged, when aborted). */
  readonly state: MarketState;
  readonly outcomes: readonly AuctionOutcome[];
  readonly payout: Payout | null;
  readonly quarantine: QuarantineDecision | null;
  /** Every env's accumulator is full: the host trains now. */
  readonly trainReady: boolean;
  readonly finals: readonly FinalVerdict[];
}

/** Seals one window; never throws on a proof failure or a capacity abort (those tombstone). */
export async function sealWindow(input: SealInput): Promise<SealResult> {
  const { profile: p, window, state } = input;
  const header = {
    profile: p,
    window,
    validatorHotkey: input.signer.ss58,
    randomness: input.randomness,
    sealRandomness: input.sealRandomness,
    checkpointRevision: input.checkpointRevision,
    rejectSummary: input.rejectSummary,
  };
  const tombstone = (stage: string, type: string, outcomes: readonly AuctionOutcome[] = []): SealResult => ({
    status: 'aborted',
    archive: signArchive(buildTombstone({ ...header, failureStage: stage, failureType: type }), input.signer),
    state,
    outcomes,
    payout: null,
    quarantine: null,
    trainReady: false,
    finals: [],
  });
  if (input.failure) return tombstone(input.failure.stage, input.failure.type);

  const known = new Set(p.environmentMix.map(([n]) => n));
  const envs = Object.keys(input.pools).filter((e) => known.has(e));
  const byId = new Map<string, PoolEntry>();
  for (const e of envs) for (const entry of input.pools[e]!) byId.set(entry.id, entry);
  const bounds = boundsFromProfile(p, input.bounds);
  const outcomes = await Promise.all(
    envs.map((env) => {
      const ctx = { window, env, checkpointRevision: input.checkpointRevision, sealRandomness: input.sealRandomness, openRound: input.openRound };
      const ranked = isFillClosed(p) ? fillOrder(input.pools[env]!, ctx) : rankCandidates(input.pools[env]!, ctx, rankParams(p));
      return selectWinners(ranked, (c) => input.prove(byId.get(c.id)!, c), bounds, {
        window,
        env,
        sealRandomness: input.sealRandomness,
        debts: input.debts ?? emptyDebts(),
        indexInCooldown: (idx) => isIndexCooling(state.indexCooldown, env, idx, window),
        contentInCooldown: (d) => isContentCooling(state.contentCooldown, d, window),
      });
    }),
  );
  const aborted = outcomes.find((o) => o.status === 'aborted');
  if (aborted) return tombstone('auction', `${aborted.env}:${aborted.stopReason}${aborted.fault ? `: ${aborted.fault}` : ''}`, outcomes);

  let payout: Payout;
  try {
    payout = computePayout(p, outcomes.map(selectionFromOutcome));
  } catch (e) {
    if (e instanceof PayoutError) return tombstone('payout', e.check, outcomes);
    throw e;
  }

  // Every env sealed: commit the cooldowns and hashes of all winners together.
  const winners = outcomes.flatMap((o) => o.winners.map((w) => byId.get(w.id)!));
  let indexCooldown = state.indexCooldown;
  for (const o of outcomes) indexCooldown = recordIndexWinners(indexCooldown, o.env, o.winners.map((w) => w.promptIdx), window);
  const contentCooldown = recordContentWinners(state.contentCooldown, winners.map((w) => w.contentSha256), window);
  const rolloutHashes = recordRolloutHashes(state.rolloutHashes, winners.flatMap((w) => w.rolloutHashes), window);

  const quarantine = assessQuarantine(
    winners.map((w) => ({ hotkey: w.hotkey, rewards: w.rewards, completionLengths: w.completionLengths, capLength: p.environments[w.env]?.maxNewTokens ?? Infinity })),
    input.rejectSummary as Partial<Record<ReasonCode, number>>,
    p.quarantine,
  );
  let accumulator = state.accumulator;
  let accumulated: Record<string, number> = {};
  if (!quarantine.quarantined) {
    const batches = Object.fromEntries(outcomes.filter((o) => o.env in accumulator.targets).map((o) => [o.env, o.winners.map((w) => byId.get(w.id)!)]));
    const added = addWindow(accumulator, batches, window, input.checkpointRevision);
    accumulator = added.state;
    accumulated = { ...added.added };
  }
  const batch: ArchiveBatchRow[] = outcomes.flatMap((o) =>
    o.winners.map((w) => {
      const e = byId.get(w.id)!;
      return {
        hotkey: e.hotkey,
        env_name: e.env,
        prompt_idx: e.promptIdx,
        content_sha256: e.contentSha256,
        sigma: e.sigma,
        rank: w.rank,
        reward: payout.rewardsById[w.id] ?? 0,
        rollout_hashes: e.rolloutHashes,
        extra: {
          merkle_root: e.merkleRoot,
          prompt: e.promptText,
          ground_truth: e.groundTruth,
          rewards: e.rewards,
          completion_lengths: e.completionLengths,
          completion_texts: e.completionTexts,
        },
      };
    }),
  );
  const held: Record<string, number> = Object.fromEntries(Object.entries(accumulator.groups).map(([n, g]) => [n, g.length]));
  const archive = signArchive(
    buildWindowArchive({
      ...header,
      outcomes,
      payout,
      batch,
      quarantine: { quarantined: quarantine.quarantined, reasons: quarantine.reasons, metrics: quarantine.metrics } as Json,
      accumulator: { revision: accumulator.revision, held, added: accumulated },
    }),
    input.signer,
  );
  const finals: FinalVerdict[] = outcomes.flatMap((o) =>
    o.records.map((r) => {
      const e = byId.get(r.candidate.id)!;
      const selected = r.status === 'selected';
      return { id: e.id, env: o.env, hotkey: e.hotkey, merkleRoot: e.merkleRoot, rank: r.candidate.rank, sigma: e.sigma, selected, rewarded: selected, reason: r.reason ?? null, status: r.status };
    }),
  );
  return {
    status: 'completed',
    archive,
    state: { indexCooldown, contentCooldown, rolloutHashes, accumulator },
    outcomes,
    payout,
    quarantine,
    trainReady: isReady(accumulator),
    finals,
  };
}
