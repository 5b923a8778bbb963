/**
 * The honest side of `reliquary bench proof` (issue 11): honest groups produced on each backend (ref, wasm, webgpu)
 * and proved on each (all 9 producer→verifier pairs) through the validator's path (bench/proof/setup.ts `judge`:
 * admission, then `proveGroup`), counting false rejects; the calibration figures (bench/proof/calibrate.ts) from the
 * same groups (and, on a subset, the same sequences recomputed on every backend); and the cost: mean ms per group of generation (`generateRollouts`, M rollouts with commitments) and
 * of verification (`proveGroup`) on each backend, and their ratio.
 *
 * Group i of producer X: prompt `marketPrompt(i)`, the honest hotkey, its own window (randomness `honest X|i`), the
 * shipped checkpoint announced as CURRENT_REVISION. webgpu (lavapipe here, slow) takes a small share: it produces
 * `plan.webgpu` groups and verifies only that many of each producer's.
 *
 * @example
 *   const cal = await measureCalibration({ backends: ['ref', 'wasm'], groups: 50 }); // cal.logprob.measured …
 */
import type { ComputeBackend } from '../../core/compute/backend.ts';
import type { Qwen3Model } from '../../core/model/forward.ts';
import { cumsumF32, warp } from '../../core/protocol/sampling.ts';
import { disposeQwen3Weights } from '../../core/model/weights.ts';
import { DEVNET, type Profile } from '../../core/profile/index.ts';
import { proofRecords } from '../../core/validator/prover.ts';
import { calibrationOf, CalibrationTally, type Calibration } from './calibrate.ts';
import {
  benchWindow, HONEST_HOTKEY, honestGroup, judge, loadTiny, marketPrompt, modelOn, openBackends, PROOF_BACKENDS, proverContext,
  proverGroup, TINY_MODEL_DIR, type BenchGroup, type BenchWindow, type TinyCheckpoint,
} from './setup.ts';

/** One producer→verifier pair: groups proved, false rejects and their reasons. */
export interface HonestRow {
  producer: string;
  verifier: string;
  groups: number;
  rejected: number;
  reasons: Record<string, number>;
}

/** Cost on one backend (ms per group; ratio = verify / generate). */
export interface CostRow {
  generate_ms_per_group: number | null;
  verify_ms_per_group: number | null;
  ratio: number | null;
  groups_generated: number;
  groups_verified: number;
}

/** Groups each producer generates (webgpu's count also caps how many groups it verifies per producer). */
export interface HonestPlan {
  readonly groups: Readonly<Record<string, number>>;
  /** Groups of each producer whose hidden states are compared across backends (|Δ hidden|). */
  readonly hiddenGroups: number;
}

export const FULL_HONEST: HonestPlan = { groups: { ref: 480, wasm: 480, webgpu: 40 }, hiddenGroups: 200 };
export const QUICK_HONEST: HonestPlan = { groups: { ref: 4, wasm: 24, webgpu: 2 }, hiddenGroups: 1 };

export interface HonestReport {
  honest: HonestRow[];
  calibration: Calibration;
  cost: Record<string, CostRow>;
}

/** How many of producer X's groups verifier Y proves: all, except the webgpu share on either side. */
function pairCount(plan: HonestPlan, produced: number, verifier: string): number {
  return verifier === 'webgpu' ? Math.min(produced, plan.groups['webgpu'] ?? 0) : produced;
}

/** Runs the honest matrix on the given backends (see the file header). The models are freed; the backends are not. */
export async function runHonest(o: {
  profile: Profile; tiny: TinyCheckpoint; backends: ReadonlyMap<string, ComputeBackend>; plan: HonestPlan; log?: (line: string) => void;
}): Promise<HonestReport> {
  const { profile, tiny, plan } = o;
  const models = new Map<string, Qwen3Model>();
  for (const [name, be] of o.backends) models.set(name, modelOn(be, tiny.cfg, tiny.tensors));
  const time = new Map<string, { gen: number; genN: number; ver: number; verN: number }>();
  const t = (b: string) => time.get(b) ?? (time.set(b, { gen: 0, genN: 0, ver: 0, verN: 0 }), time.get(b)!);
  const tally = new CalibrationTally();
  const rows: HonestRow[] = [];
  try {
    const produced = new Map<string, { g: BenchGroup; w: BenchWindow }[]>();
    for (const [x, model] of models) {
      const list: { g: BenchGroup; w: BenchWindow }[] = [];
      for (let i = 0; i < (plan.groups[x] ?? 0); i++) {
        const w = benchWindow(`honest ${x}`, i);
        const t0 = performance.now();
        const g = await honestGroup(model, marketPrompt(i), HONEST_HOTKEY, w, profile);
        t(x).gen += performance.now() - t0;
        t(x).genN++;
        list.push({ g, w });
      }
      produced.set(x, list);
      o.log?.(`honest: ${list.length} groups generated on ${x}`);
    }
    for (const [x, list] of produced) {
      for (const [y, model] of models) {
        const row: HonestRow = { producer: x, verifier: y, groups: 0, rejected: 0, reasons: {} };
        for (const { g, w } of list.slice(0, pairCount(plan, list.length, y))) {
          const t0 = performance.now();
          const v = await judge({ model, profile, window: w }, g);
          t(y).ver += performance.now() - t0;
          t(y).verN++;
          row.groups++;
          if (v) {
            row.rejected++;
            row.reasons[v.reason] = (row.reasons[v.reason] ?? 0) + 1;
          }
          const records = await proofRecords(proverGroup(g), proverContext(model, profile, w));
          tally.addRecords(`${x}→${y}`, records, { randomness: w.randomness, promptIdx: g.promptIdx, checkpointHash: w.checkpointHash, hotkey: g.hotkey }, profile);
        }
        rows.push(row);
        o.log?.(`honest: ${x}→${y} ${row.rejected}/${row.groups} rejected`);
      }
    }
    await crossBackendDrift(models, produced, plan.hiddenGroups, profile, tally);
  } finally {
    for (const [name, m] of models) disposeQwen3Weights(o.backends.get(name)!, m.weights);
  }
  const cost: Record<string, CostRow> = {};
  for (const name of models.keys()) {
    const c = t(name);
    const gen = c.genN ? c.gen / c.genN : null;
    const ver = c.verN ? c.ver / c.verN : null;
    cost[name] = { generate_ms_per_group: gen, verify_ms_per_group: ver, ratio: gen && ver !== null ? ver / gen : null, groups_generated: c.genN, groups_verified: c.verN };
  }
  return { honest: rows, calibration: calibrationOf(tally, profile), cost };
}

/**
 * |Δ hidden| and |Δ CDF boundary| of the first `n` groups of every producer: each sequence's prefill on every
 * backend (final hidden rows, then every row's full warped CDF in token-id order: all V boundaries of every position
 * of prompt + completion, i.e. every boundary a claimed token's interval could have), compared for every pair.
 */
async function crossBackendDrift(models: ReadonlyMap<string, Qwen3Model>, produced: ReadonlyMap<string, { g: BenchGroup }[]>, n: number, profile: Profile, tally: CalibrationTally): Promise<void> {
  const rollouts = [...produced.values()].flatMap((list) => list.slice(0, n).flatMap(({ g }) => g.rollouts));
  const hidden = new Map<string, Float32Array[]>();
  const cdfs = new Map<string, Float32Array[]>();
  const { temperature, topK, topP } = profile.sampling;
  for (const [name, model] of models) {
    const hs: Float32Array[] = [];
    const cs: Float32Array[] = [];
    const { C, V } = model.cfg;
    for (const r of rollouts) {
      const L = r.tokens.length;
      const h = model.hiddenForward(r.tokens, 1, L);
      let host: Float32Array;
      try {
        host = await model.be.download(h);
      } finally {
        model.be.dispose(h);
      }
      hs.push(host);
      const rows = model.be.upload(host, [L, C]);
      let z: Float32Array;
      try {
        z = await model.logitsOf(rows, L);
      } finally {
        model.be.dispose(rows);
      }
      const cdf = new Float32Array(L * V);
      for (let i = 0; i < L; i++) cdf.set(cumsumF32(warp(z.subarray(i * V, (i + 1) * V), temperature, topK, topP)), i * V);
      cs.push(cdf);
    }
    hidden.set(name, hs);
    cdfs.set(name, cs);
  }
  for (const [x, hx] of hidden) {
    for (const [y, hy] of hidden) {
      hx.forEach((a, k) => tally.addHidden(`${x}→${y}`, a, hy[k]!, rollouts[k]!.tokens.length));
      cdfs.get(x)!.forEach((a, k) => tally.addRowCdfs(`${x}→${y}`, a, cdfs.get(y)![k]!, rollouts[k]!.tokens.length));
    }
  }
}

/**
 * The calibration section measured on honest groups of `backends` (default all three; one that cannot start is
 * left out), `groups` per producer (webgpu: at most 40): for setting profile.proof's constants.
 */
export async function measureCalibration(o: { profile?: Profile; modelDir?: string; backends?: readonly string[]; groups?: number } = {}): Promise<Calibration> {
  const profile = o.profile ?? DEVNET;
  const tiny = await loadTiny(o.modelDir ?? TINY_MODEL_DIR);
  const { backends } = await openBackends(o.backends ?? PROOF_BACKENDS);
  const n = o.groups ?? 100;
  try {
    const groups = Object.fromEntries([...backends.keys()].map((b) => [b, b === 'webgpu' ? Math.min(n, 40) : n]));
    return (await runHonest({ profile, tiny, backends, plan: { groups, hiddenGroups: 2 } })).calibration;
  } finally {
    for (const be of backends.values()) be.destroy();
  }
}
