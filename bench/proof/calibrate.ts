/**
 * Calibration of the proof v2 constants from measured honest drift (issue 11): over honest groups produced on one
 * backend and proved on another (every producer→verifier pair of ref, wasm, webgpu), the largest
 *   |Δ logprob|  claimed by the producer (its KV-cache decode) vs recomputed by the verifier (teacher-forced prefill),
 *                every completion position                        → profile.proof.logprobMaxAbs
 *   CDF distance the distance from u to the claimed token's CDF interval [lower, upper) of the verifier's warped
 *                row (0 when u lies inside), every completion position → profile.proof.cdfEpsilon
 *   |Δ hidden|   the final hidden states of the same sequence on the two backends (prefill rows of every position of
 *                prompt + completion), on a subset of sequences       → profile.proof.sketchAmbiguity
 *   |Δ CDF boundary|  every boundary of the warped CDF (all V entries, token-id order) of every row of prompt +
 *                completion, recomputed (prefill) on the two backends, same subset → profile.proof.cdfEpsilon (the
 *                drift ε must cover: any token's interval, not only the claimed one's)
 * and the forgery surface ε opens: the share of honest completion positions where u lies within cdfEpsilon of a
 * boundary of its token's interval (there a neighbouring token would pass the replay too).
 * each with the profile's chosen value and the margin = chosen / measured (null when nothing was measured above 0).
 *
 * `CalibrationTally` accumulates; `calibrationOf` turns a tally into the printed section; `measureCalibration`
 * (bench/proof/honest.ts) runs the honest matrix and returns it, for setting the constants.
 *
 * @example
 *   const t = new CalibrationTally();
 *   t.addRecords(records, { randomness, promptIdx, checkpointHash, hotkey }, profile);
 *   calibrationOf(t, profile).logprob; // { measured, chosen, margin, positions }
 */
import type { ProofForward, RolloutUnderCheck } from '../../core/protocol/checks.ts';
import type { Profile } from '../../core/profile/index.ts';
import { uAt } from '../../core/protocol/sampling.ts';

/** One calibrated constant: the largest measured value, the profile's value, chosen / measured. */
export interface CalibratedValue {
  measured: number;
  chosen: number;
  /** chosen / measured; null when measured is 0 (any positive choice covers it). */
  margin: number | null;
  /** Positions (rows for hidden) the maximum was taken over. */
  positions: number;
}

export interface Calibration {
  /** producer→verifier pairs the figures cover. */
  pairs: string[];
  logprob: CalibratedValue;
  cdf: CalibratedValue;
  hidden: CalibratedValue;
  cdfBoundary: CalibratedValue;
  /** Honest completion positions whose u lies within cdfEpsilon of its interval's boundary (a neighbour would pass too). */
  epsilonAmbiguous: { positions: number; of: number; share: number };
  /** What the positions are. */
  note: string;
}

/** The stream of one group: what `uAt` needs besides the rollout index and offset. */
export interface StreamOf {
  readonly randomness: string;
  readonly promptIdx: number;
  readonly checkpointHash: string;
  readonly hotkey: string;
}

/** Distance from u to [lower, upper): 0 inside. */
export function cdfDistance(u: number, lower: number, upper: number): number {
  return u < lower ? lower - u : u >= upper ? u - upper : 0;
}

/** Running maxima of the three drifts. */
export class CalibrationTally {
  readonly pairs = new Set<string>();
  logprobMax = 0;
  cdfMax = 0;
  hiddenMax = 0;
  boundaryMax = 0;
  positions = 0;
  hiddenRows = 0;
  boundaryPositions = 0;
  ambiguous = 0;

  /** The completion positions of proved honest rollouts (verifier's records, producer's claims). */
  addRecords(pair: string, records: readonly RolloutUnderCheck[], s: StreamOf, profile: Profile): void {
    this.pairs.add(pair);
    records.forEach(({ proof, claim }, m) => this.addRollout(proof, claim.tokenLogprobs, m, s, profile));
  }

  private addRollout(proof: ProofForward, claimed: readonly number[], m: number, s: StreamOf, profile: Profile): void {
    const C = proof.tokens.length - proof.promptLength;
    const off = claimed.length === proof.tokens.length ? proof.promptLength : 0;
    for (let j = proof.promptLength === 0 ? 1 : 0; j < C; j++) {
      const d = Math.abs(claimed[off + j]! - proof.chosenLogprob[j]!);
      if (d > this.logprobMax || Number.isNaN(d)) this.logprobMax = Number.isNaN(d) ? Infinity : d;
      const u = Math.fround(uAt(s.randomness, s.promptIdx, s.checkpointHash, m, j, profile.forcedSeed, s.hotkey)); // as the replay reads it
      const c = cdfDistance(u, proof.cdfLower[j]!, proof.cdfUpper[j]!);
      if (c > this.cdfMax) this.cdfMax = c;
      const eps = profile.proof.cdfEpsilon;
      if (u - proof.cdfLower[j]! < eps && proof.cdfLower[j]! > 0) this.ambiguous++;
      else if (proof.cdfUpper[j]! - u <= eps && proof.cdfUpper[j]! < 1) this.ambiguous++;
      this.positions++;
    }
  }

  /** Final hidden states of the same rows on two backends (row-major, same length). */
  addHidden(pair: string, a: Float32Array, b: Float32Array, rows: number): void {
    this.pairs.add(pair);
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i]! - b[i]!);
      if (d > this.hiddenMax) this.hiddenMax = d;
    }
    this.hiddenRows += rows;
  }

  /** The full warped CDFs (rows × V, token-id order) of the same rows recomputed on two backends: every boundary. */
  addRowCdfs(pair: string, a: Float32Array, b: Float32Array, rows: number): void {
    this.pairs.add(pair);
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i]! - b[i]!);
      if (d > this.boundaryMax || Number.isNaN(d)) this.boundaryMax = Number.isNaN(d) ? Infinity : d;
    }
    this.boundaryPositions += rows;
  }
}

const value = (measured: number, chosen: number, positions: number): CalibratedValue => ({
  measured, chosen, margin: measured > 0 ? chosen / measured : null, positions,
});

/** The calibration section of a tally under `profile`. */
export function calibrationOf(t: CalibrationTally, profile: Profile): Calibration {
  return {
    pairs: [...t.pairs].sort(),
    logprob: value(t.logprobMax, profile.proof.logprobMaxAbs, t.positions),
    cdf: value(t.cdfMax, profile.proof.cdfEpsilon, t.positions),
    hidden: value(t.hiddenMax, profile.proof.sketchAmbiguity, t.hiddenRows),
    cdfBoundary: value(t.boundaryMax, profile.proof.cdfEpsilon, t.boundaryPositions),
    epsilonAmbiguous: { positions: t.ambiguous, of: t.positions, share: t.positions ? t.ambiguous / t.positions : 0 },
    note: 'logprob and u-to-interval: every completion position of the honest groups (producer decode vs verifier prefill); hidden and CDF boundary: a subset of sequences recomputed (prefill) on producer and verifier, every position (prompt + completion); boundaries: all V entries of each row’s warped CDF, counted per row',
  };
}
