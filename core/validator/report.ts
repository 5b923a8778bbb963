/**
 * What the validator node tells its host about each window (`WindowReport`) and the pieces of it: the training line,
 * the published checkpoint, the weights set on the chain, a held-out eval. A window's report is built from its
 * progress record (progress.ts), so a window finished after a restart reports exactly like an uninterrupted one.
 */
import type { CheckpointBenchmark } from './benchmark.ts';
import type { SealResult } from '../market/seal.ts';
import type { ProgressRecord, SealFacts } from './progress.ts';

/** One published checkpoint: its number, revision (sha256 of its weights, 40 hex) and where it lives. */
export interface PublishedCheckpoint {
  readonly checkpointN: number;
  readonly revision: string;
  /** The checkpoint directory (the manifest's `repo_id` on the devnet). */
  readonly dir: string;
  /** The window whose training step it publishes (null: the base checkpoint). */
  readonly window: number | null;
  /** Held-out benchmark against its parent (benchmark.ts), when the validator runs one. */
  readonly benchmark?: CheckpointBenchmark;
}

export interface TrainLine {
  readonly step: number;
  readonly applied: boolean;
  readonly skipped: string | null;
  readonly loss: number;
  readonly gradNorm: number;
  readonly lr: number;
  readonly meanReward: number;
  readonly tokens: number;
  readonly groups: number;
}

/** A `setWeights` call made after a window (market §6). */
export interface WeightsLine {
  readonly block: number;
  readonly epochId: number;
  readonly burnUid: number;
  readonly uids: readonly number[];
  readonly weights: readonly number[];
  /** Weight of each registered hotkey's uid (the burn uid excluded). */
  readonly byHotkey: Readonly<Record<string, number>>;
  /** Mass at the burn uid: unpaid shares plus the omitted mass of deregistered hotkeys. */
  readonly burn: number;
  /** EMA mass of hotkeys no longer registered (part of the burn). */
  readonly omitted: number;
  /** Archived windows the EMA replay read. */
  readonly replayed: number;
}

/** One held-out pass@1 measurement of the validator's model. */
export interface HeldOutEval {
  readonly problems: number;
  readonly correct: number;
  /** correct / problems, in [0, 1]. */
  readonly passAt1: number;
  /** Successful training steps behind the evaluated weights (the trainer's schedule step; 0 = the base model). */
  readonly trainStep: number;
  /** The last published checkpoint number when evaluated (0 = the base model). */
  readonly checkpointN: number;
  readonly seconds: number;
}

/** What one window did. */
export interface WindowReport {
  readonly window: number;
  readonly status: 'completed' | 'aborted';
  /** FSM phases with seconds since the window opened. */
  readonly transitions: readonly { readonly phase: string; readonly at: number }[];
  readonly trigger: string;
  readonly poolSize: number;
  /** The checkpoint the window announced and its groups were proved on. */
  readonly checkpointRevision: string;
  readonly sealRandomness: boolean;
  readonly winners: readonly { readonly hotkey: string; readonly promptIdx: number; readonly sigma: number; readonly rank: number }[];
  /** Admission rejects (archive `reject_summary`) plus proof failures at the seal, by reason. */
  readonly rejects: Readonly<Record<string, number>>;
  readonly payouts: Readonly<Record<string, number>>;
  readonly burned: number;
  readonly train: TrainLine | null;
  readonly published: PublishedCheckpoint | null;
  readonly seconds: { readonly collect: number; readonly proof: number; readonly train: number };
  readonly archiveKey: string;
  readonly failure: string | null;
  /** The weights set on the chain after this window; null when none were set (aborted window, or epoch rule). */
  readonly weights: WeightsLine | null;
  /** The step the window was resumed at after a restart (null: it ran in one process). */
  readonly resumedAt: string | null;
}

const r3 = (s: number): number => Math.round(s * 1000) / 1000;

/** The report facts of a seal, kept in the `sealed` progress record. */
export function sealFacts(
  r: SealResult,
  x: { transitions: SealFacts['transitions']; trigger: string; poolSize: number; checkpointRevision: string; sealRandomness: string; collect: number; proof: number },
): SealFacts {
  const a = r.archive;
  const rejects: Record<string, number> = { ...a.reject_summary };
  for (const f of r.finals) if (f.reason) rejects[f.reason] = (rejects[f.reason] ?? 0) + 1;
  return {
    transitions: x.transitions, trigger: x.trigger, poolSize: x.poolSize, checkpointRevision: x.checkpointRevision,
    sealRandomness: x.sealRandomness !== '',
    winners: r.finals.filter((f) => f.selected).map((f) => ({ hotkey: f.hotkey, promptIdx: a.batch.find((b) => b.extra?.['merkle_root'] === f.merkleRoot)?.prompt_idx ?? -1, sigma: f.sigma, rank: f.rank })),
    rejects,
    failure: a.failure_stage ? `${a.failure_stage}: ${a.failure_type ?? ''}` : null,
    seconds: { collect: r3(x.collect), proof: r3(x.proof) },
  };
}

/** The report of a finished window, from its progress record. */
export function windowReport(rec: ProgressRecord, archiveKey: string, resumedAt: string | null, readyAt: number | null): WindowReport {
  const s = rec.seal;
  return {
    window: rec.window,
    status: rec.status,
    transitions: readyAt === null ? s.transitions : [...s.transitions, { phase: 'ready', at: readyAt }],
    trigger: s.trigger,
    poolSize: s.poolSize,
    checkpointRevision: s.checkpointRevision,
    sealRandomness: s.sealRandomness,
    winners: s.winners,
    rejects: s.rejects,
    payouts: { ...rec.archive.rewards_by_hotkey },
    burned: rec.archive.burned,
    train: rec.train,
    published: rec.published,
    seconds: { ...s.seconds, train: r3(rec.trainSeconds) },
    archiveKey,
    failure: s.failure,
    weights: rec.weights,
    resumedAt,
  };
}
