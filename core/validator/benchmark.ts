/**
 * Every checkpoint benchmarked against the last (issue 13): before a publish, the validator evaluates the new weights
 * and their parent (the last published weights, still held by the trainer as π_old) on a fixed held-out set under
 * one fixed forced-seed stream, so both see the same seeds problem by problem (paired), and records pass@1 of each,
 * the difference and its 95 % paired-bootstrap interval (resampling problems) with the published checkpoint (index
 * record and manifest; core/validator/publish.ts). The child's scores are kept, so the next publish does not
 * evaluate its parent again.
 *
 * @example
 *   const bench = new CheckpointBencher({ profile, tokenizer, heldOut });
 *   const b = await bench.run(trainer, parentN);          // before publishCheckpoint
 *   await publishCheckpoint(io, store, keys, trainer, parentN + 1, window, b);
 */
import type { Environment } from '../interfaces/environment.ts';
import { evaluateHeldOut, type HeldOutEval } from '../experiment/eval.ts';
import { pairedBootstrap, pairedDiff } from '../experiment/stats.ts';
import { Qwen3Model } from '../model/forward.ts';
import type { Profile } from '../profile/index.ts';
import type { Tokenizer } from '../tokenizer/types.ts';
import type { Trainer } from '../training/trainer.ts';

/** The held-out benchmark of a published checkpoint against its parent. */
export interface CheckpointBenchmark {
  readonly parentCheckpointN: number;
  readonly problems: number;
  /** Samples per problem (pass@1 = c/k). */
  readonly k: number;
  readonly parentPassAt1: number;
  readonly passAt1: number;
  /** passAt1 − parentPassAt1, paired problem by problem, with its 95 % interval. */
  readonly diff: { readonly mean: number; readonly lo: number; readonly hi: number; readonly level: number };
  readonly paired: true;
}

export interface BencherOptions {
  readonly profile: Profile;
  readonly tokenizer: Tokenizer;
  readonly heldOut: { readonly env: Environment; readonly indices: readonly number[]; readonly randomness: string; readonly maxNewTokens: number };
  /** Samples per problem (default 2). */
  readonly k?: number;
  readonly bootstrap?: number;
}

export class CheckpointBencher {
  private last: { readonly checkpointN: number; readonly eval: HeldOutEval } | null = null;
  constructor(private readonly o: BencherOptions) {}

  private evaluate(trainer: Trainer, weights: Trainer['weights']): Promise<HeldOutEval> {
    const h = this.o.heldOut;
    return evaluateHeldOut(new Qwen3Model(trainer.be, trainer.cfg, weights), {
      env: h.env, indices: h.indices, randomness: h.randomness, maxNewTokens: h.maxNewTokens, k: this.o.k ?? 2, profile: this.o.profile, tokenizer: this.o.tokenizer,
    });
  }

  /** Benchmarks `trainer.weights` (checkpoint parentN + 1) against `trainer.published` (checkpoint parentN). */
  async run(trainer: Trainer, parentN: number): Promise<CheckpointBenchmark> {
    const parent = this.last?.checkpointN === parentN ? this.last.eval : await this.evaluate(trainer, trainer.published);
    const child = await this.evaluate(trainer, trainer.weights);
    this.last = { checkpointN: parentN + 1, eval: child };
    const diff = pairedBootstrap(pairedDiff([child.perProblem], [parent.perProblem]), { iterations: this.o.bootstrap ?? 1000, seed: `checkpoint-${parentN + 1}`, resampleSeeds: false });
    return { parentCheckpointN: parentN, problems: child.problems, k: child.k, parentPassAt1: parent.passAt1, passAt1: child.passAt1, diff, paired: true };
  }
}

/** One line for a report: `pass@1 0.462 vs 0.455 (parent 3): +0.7 pp [−0.2, +1.6]`. */
export function formatBenchmark(b: CheckpointBenchmark): string {
  const pp = (x: number): string => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
  return `pass@1 ${b.passAt1.toFixed(3)} vs ${b.parentPassAt1.toFixed(3)} (checkpoint ${b.parentCheckpointN}): ${pp(b.diff.mean)} pp [${pp(b.diff.lo)}, ${pp(b.diff.hi)}] on ${b.problems} held-out problems × ${b.k}, paired`;
}
