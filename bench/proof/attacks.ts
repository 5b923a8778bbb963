/**
 * The forgery rows of `reliquary bench proof` (issue 11): each attack builds group i the way a cheater would, then
 * the group goes through what the validator does (bench/proof/setup.ts `judge`: admission's prompt binding and
 * reward recomputation, then `proveGroup` with the validator's own randomness, announced checkpoint, signing hotkey
 * and a seal randomness drawn after the group was made). Signatures are modelled as valid (every attack is re-signed
 * by the cheater). `accepted_differing` counts accepted groups whose tokens differ from the honest replay of the
 * same (prompt, signing hotkey, window randomness, announced checkpoint) on the validator's model.
 *
 * Rows (producer = the cheater's backend, verifier = the validator's):
 *   honest              control: the cheater's own honest groups (must all be accepted)
 *   constant-sketch     honest tokens and log-probs, every commitment = the most common honest sketch value of
 *                       honest groups of other windows (`AttackLab.commonSketch`)
 *   random-sketch       honest tokens and log-probs, commitments uniform in [0, 2^31−1)
 *   copied-sketch       honest tokens and log-probs, commitments of an honest group of another prompt (same window)
 *   wrong-model-1e-3/-2/-1  tokens, log-probs and sketches honestly computed on the shipped weights plus seeded noise of
 *                       that std relative to each tensor's RMS (drift.ts `perturbedTensors`: uniform noise of that std),
 *                       claiming the announced checkpoint
 *   reseeded-model      the same from a differently seeded model: a fresh random init (`initTinyWeights`, seed 7) —
 *                       not trained (2000 supervised steps are too slow for a bench)
 *   previous-checkpoint the validator announces the checkpoint one GRPO step after the shipped one (trained here on
 *                       the producer backend on honest in-zone groups); the cheater generates on the shipped weights
 *   edit-middle         one middle completion token (not the last answer token) replaced by the likeliest other
 *                       non-EOS token there; reward, log-probs and sketches recomputed on the right model (strongest)
 *   edit-final          the final answer token replaced the same way
 *   answer-correction   a wrong rollout's completion rewritten to the ground truth + EOS; reward 1 recomputed,
 *                       log-probs and sketches recomputed on the right model (k moves toward the zone)
 *   old-tokens          an honest group of window R1 submitted in window R2, log-probs and sketches recomputed under R2
 *   copied-group        an honest group of the honest hotkey submitted (re-signed) by the cheater's hotkey
 *   prompt-mismatch     an honest generation of another problem's prompt text claimed for prompt_idx
 *
 * Sketch rows also report positions tried / passed: the validator's recomputed sketch at every position against the
 * claimed commitment (`positionTally`: v4 sketch within the tolerance; v8, the claim among the validator's candidates).
 *
 * @example
 *   const lab = await AttackLab.open({ profile, producer: wasmBe, verifier: wasmBe, tiny });
 *   const row = await runAttack(lab, ATTACKS.find((a) => a.name === 'edit-final')!, 8);
 */
import type { ComputeBackend } from '../../core/compute/backend.ts';
import type { Qwen3Model } from '../../core/model/forward.ts';
import { initTinyWeights, mulberry32 } from '../../core/model/tiny.ts';
import { disposeQwen3Weights, type HostTensor } from '../../core/model/weights.ts';
import type { Profile } from '../../core/profile/index.ts';
import type { MinerClaim, ProofForward } from '../../core/protocol/checks.ts';
import { sketchDistance, sketchTolerance } from '../../core/protocol/sketch.ts';
import { CHAR_EOS, CHAR_PAD, DEVNET_CHAR_TOKENIZER } from '../../core/tokenizer/char.ts';
import { createTrainer, disposeTrainer, publishedTensors, trainStep } from '../../core/training/trainer.ts';
import { proofRecords } from '../../core/validator/prover.ts';
import { modelTensors } from '../../hosts/node/commands/model.ts';
import { perturbedTensors } from '../drift.ts';
import {
  ARITH, benchWindow, CHEATER_HOTKEY, CURRENT_REVISION, ENV_NAME, HONEST_HOTKEY, honestGroup, judge, marketPrompt, modelOn, NEXT_REVISION,
  proverContext, proverGroup, recommit, sameTokens, type BenchGroup, type BenchRollout, type BenchWindow, type TinyCheckpoint,
} from './setup.ts';

/** One forged group, the window it is proved in, and the validator's model for it. */
export interface Forged {
  readonly group: BenchGroup;
  readonly window: BenchWindow;
  readonly validator: Qwen3Model;
}

export interface Attack {
  readonly name: string;
  /** Sketch rows: also count positions tried / passed. */
  readonly positions?: boolean;
  /** Group i of the row, or null when this draw does not admit the attack (e.g. no wrong rollout to correct). */
  forge(lab: AttackLab, i: number): Promise<Forged | null>;
}

/** One row of the table (the issue's JSON shape, plus skipped draws and the sketch rows' per-position figures). */
export interface AttackRow {
  attack: string;
  groups: number;
  accepted: number;
  accepted_differing: number;
  /** Reject reason → groups (admission's or the prover's); accepted + Σ reasons = groups. */
  reasons: Record<string, number>;
  /** Draws the attack did not apply to (not counted in `groups`). */
  skipped: number;
  positions?: { tried: number; passed: number; rate: number };
}

/** The models an attack needs, built once per lab on the producer (cheater) and verifier (validator) backends. */
export class AttackLab {
  private readonly cache = new Map<string, Qwen3Model>();
  private readonly owned: { be: ComputeBackend; model: Qwen3Model }[] = [];
  /** How the previous-checkpoint row's announced checkpoint was made. */
  nextNote = '';
  /** The hotkey that signs the forged groups, and the honest hotkey copied-group copies from. */
  cheater = CHEATER_HOTKEY;
  victim = HONEST_HOTKEY;
  /**
   * When set, every forgery is made for (and proved in) this one window — a market window
   * (test/adversarial/proof-market.test.ts) — instead of a fresh window per group. previous-checkpoint then
   * generates on the checkpoint one GRPO step away from the shipped weights the window announces.
   */
  fixedWindow: BenchWindow | null = null;

  /** The window of group i of a row. */
  windowFor(row: string, i: number, checkpointHash = CURRENT_REVISION): BenchWindow {
    return this.fixedWindow ?? benchWindow(row, i, checkpointHash);
  }

  private constructor(
    readonly profile: Profile,
    readonly producerBe: ComputeBackend,
    readonly verifierBe: ComputeBackend,
    readonly tiny: TinyCheckpoint,
    /** The shipped weights on the producer and on the verifier backend. */
    readonly current: Qwen3Model,
    readonly validator: Qwen3Model,
  ) {}

  static open(o: { profile: Profile; producer: ComputeBackend; verifier: ComputeBackend; tiny: TinyCheckpoint }): AttackLab {
    const current = modelOn(o.producer, o.tiny.cfg, o.tiny.tensors);
    const validator = o.verifier === o.producer ? current : modelOn(o.verifier, o.tiny.cfg, o.tiny.tensors);
    const lab = new AttackLab(o.profile, o.producer, o.verifier, o.tiny, current, validator);
    lab.owned.push({ be: o.producer, model: current });
    if (validator !== current) lab.owned.push({ be: o.verifier, model: validator });
    return lab;
  }

  private memo(key: string, be: ComputeBackend, make: () => Map<string, HostTensor>): Qwen3Model {
    let m = this.cache.get(key);
    if (!m) {
      m = modelOn(be, this.tiny.cfg, make());
      this.cache.set(key, m);
      this.owned.push({ be, model: m });
    }
    return m;
  }

  /** The shipped weights plus seeded noise of std `rel` × each tensor's RMS, on the producer backend. */
  perturbed(rel: number): Qwen3Model {
    return this.memo(`noise ${rel}`, this.producerBe, () => perturbedTensors(this.tiny.tensors, 11, rel));
  }

  /** A fresh random init of the same shape (seed 7), on the producer backend. */
  reseeded(): Qwen3Model {
    return this.memo('seed 7', this.producerBe, () => initTinyWeights(this.tiny.cfg, 7));
  }

  private nextTensors: Map<string, HostTensor> | null = null;

  /**
   * The checkpoint one GRPO step after the shipped one, on the verifier backend: honest groups of frontier prompts
   * generated on the producer, those with mixed rewards kept, one `trainStep` (the profile's GRPO) on a trainer over
   * the producer backend. Falls back to noise 1e-3 if the step was skipped or the backend cannot train.
   */
  async next(): Promise<Qwen3Model> {
    if (!this.nextTensors) {
      const groups: BenchRollout[][] = [];
      for (let i = 0; groups.length < 4 && i < 40; i++) {
        const g = await honestGroup(this.current, marketPrompt(i, [2, 3, 4, 5]), HONEST_HOTKEY, benchWindow('train', i), this.profile);
        const k = g.rollouts.filter((r) => r.reward > 0).length;
        if (k > 0 && k < g.rollouts.length) groups.push([...g.rollouts]);
      }
      let tensors: Map<string, HostTensor> | null = null;
      try {
        const trainer = createTrainer(this.producerBe, this.tiny.ckpt, this.profile);
        const rec = await trainStep(trainer, [{
          name: ENV_NAME, maxNewTokens: this.profile.environments[ENV_NAME]!.maxNewTokens,
          groups: groups.map((g) => g.map((r) => ({ tokens: r.tokens, promptLen: r.promptLength, reward: r.reward, logpOld: r.logprobs }))),
        }]);
        if (rec.applied) {
          tensors = modelTensors(publishedTensors(trainer) as never);
          this.nextNote = `one GRPO step (lr ${this.profile.grpo.learningRate}, ${groups.length} in-zone groups, on ${this.producerBe.name}; grad norm ${rec.gradNorm.toPrecision(3)})`;
        } else {
          this.nextNote = `the GRPO step was skipped (${rec.skipped}): the shipped weights plus noise 1e-3 instead`;
        }
        disposeTrainer(trainer);
      } catch (e) {
        this.nextNote = `no GRPO step (${e instanceof Error ? e.message : String(e)}): the shipped weights plus noise 1e-3 instead`;
      }
      this.nextTensors = tensors ?? perturbedTensors(this.tiny.tensors, 13, 1e-3);
    }
    const t = this.nextTensors;
    return this.memo('next', this.verifierBe, () => t);
  }

  private common: number | null = null;

  /**
   * The most common honest commitment value (completion positions) over 8 honest groups of other windows: the
   * constant-sketch row's constant. Taken from other windows on purpose — a cheater who had this group's own
   * sketches would have run the model.
   */
  async commonSketch(): Promise<number> {
    if (this.common === null) {
      const values: number[] = [];
      for (let k = 0; k < 8; k++) {
        const g = await honestGroup(this.current, marketPrompt(k), this.cheater, benchWindow('sketch mode', k), this.profile);
        for (const r of g.rollouts) values.push(...r.commitments.subarray(r.promptLength));
      }
      this.common = mode(values);
    }
    return this.common;
  }

  /** Frees every model the lab uploaded (not the backends). */
  close(): void {
    for (const { be, model } of this.owned) disposeQwen3Weights(be, model.weights);
    this.owned.length = 0;
    this.cache.clear();
  }
}

/** The devnet char tokenizer's EOS and pad ids (core/tokenizer/char.ts). */
const EOS = new Set<number>([CHAR_EOS]);

/** The logits row that predicts position `pos` of `tokens` (the forward over tokens[0 … pos)). */
async function rowLogits(model: Qwen3Model, tokens: Int32Array, pos: number): Promise<Float32Array> {
  const hidden = model.hiddenForward(tokens.slice(0, pos), 1, pos);
  try {
    const all = await model.logitsOf(hidden, pos);
    return all.slice((pos - 1) * model.cfg.V, pos * model.cfg.V);
  } finally {
    model.be.dispose(hidden);
  }
}

/** The likeliest token at `pos` other than the one there, EOS and pad. */
async function likeliestOther(model: Qwen3Model, tokens: Int32Array, pos: number): Promise<number> {
  const z = await rowLogits(model, tokens, pos);
  let best = -1;
  for (let v = 0; v < z.length; v++) if (v !== tokens[pos] && v !== CHAR_PAD && !EOS.has(v) && (best < 0 || z[v]! > z[best]!)) best = v;
  return best;
}

/** Completion tokens before a trailing EOS. */
function bodyLength(r: BenchRollout): number {
  const C = r.tokens.length - r.promptLength;
  return C > 0 && EOS.has(r.tokens[r.tokens.length - 1]!) ? C - 1 : C;
}

/** The group with rollout m replaced. */
const withRollout = (g: BenchGroup, m: number, r: BenchRollout): BenchGroup => ({ ...g, rollouts: g.rollouts.map((x, k) => (k === m ? r : x)) });

/** The mode of a list of ints. */
function mode(xs: Iterable<number>): number {
  const n = new Map<number, number>();
  let best = 0, bestN = 0;
  for (const x of xs) {
    const c = (n.get(x) ?? 0) + 1;
    n.set(x, c);
    if (c > bestN) [best, bestN] = [x, c];
  }
  return best;
}

/** Honest generation on the shipped weights by the cheater in the row's window i. */
async function own(lab: AttackLab, row: string, i: number, levels?: readonly number[]): Promise<{ g: BenchGroup; w: BenchWindow }> {
  const w = lab.windowFor(row, i);
  return { g: await honestGroup(lab.current, marketPrompt(i, levels), lab.cheater, w, lab.profile), w };
}

const sketchRow = (name: string, commit: (g: BenchGroup, lab: AttackLab, i: number, w: BenchWindow) => Promise<(r: BenchRollout, m: number) => Int32Array>): Attack => ({
  name,
  positions: true,
  async forge(lab, i) {
    const { g, w } = await own(lab, name, i);
    const f = await commit(g, lab, i, w);
    return { group: { ...g, rollouts: g.rollouts.map((r, m) => ({ ...r, commitments: f(r, m) })) }, window: w, validator: lab.validator };
  },
});

const wrongModel = (name: string, model: (lab: AttackLab) => Qwen3Model): Attack => ({
  name,
  async forge(lab, i) {
    const w = lab.windowFor(name, i);
    return { group: await honestGroup(model(lab), marketPrompt(i), lab.cheater, w, lab.profile), window: w, validator: lab.validator };
  },
});

const edit = (name: string, where: (r: BenchRollout) => number | null): Attack => ({
  name,
  async forge(lab, i) {
    const { g, w } = await own(lab, name, i, [2, 3, 4, 5, 6, 7]);
    const m = g.rollouts.findIndex((r) => where(r) !== null);
    if (m < 0) return null;
    const r = g.rollouts[m]!;
    const pos = where(r)!;
    const tokens = r.tokens.slice();
    tokens[pos] = await likeliestOther(lab.current, tokens, pos);
    return { group: withRollout(g, m, await recommit(lab.current, g.promptIdx, tokens, r.promptLength, w, lab.profile)), window: w, validator: lab.validator };
  },
});

/** Every attack row of the issue, in table order (the honest control first). */
export const ATTACKS: readonly Attack[] = [
  {
    name: 'honest',
    async forge(lab, i) {
      const { g, w } = await own(lab, 'honest', i);
      return { group: g, window: w, validator: lab.validator };
    },
  },
  sketchRow('constant-sketch', async (_g, lab) => {
    const c = await lab.commonSketch();
    return (r) => new Int32Array(r.commitments.length).fill(c);
  }),
  sketchRow('random-sketch', async (_g, _lab, i) => {
    const rand = mulberry32(1000 + i);
    return (r) => Int32Array.from(r.commitments, () => Math.floor(rand() * 2147483647));
  }),
  sketchRow('copied-sketch', async (g, lab, i, w) => {
    const other = await honestGroup(lab.current, marketPrompt(i + 1), lab.cheater, w, lab.profile);
    return (r, m) => {
      const src = other.rollouts[m]!.commitments;
      return Int32Array.from(r.commitments, (_, k) => src[Math.min(k, src.length - 1)]!);
    };
  }),
  wrongModel('wrong-model-1e-3', (lab) => lab.perturbed(1e-3)),
  wrongModel('wrong-model-1e-2', (lab) => lab.perturbed(1e-2)),
  wrongModel('wrong-model-1e-1', (lab) => lab.perturbed(1e-1)),
  wrongModel('reseeded-model', (lab) => lab.reseeded()),
  {
    name: 'previous-checkpoint',
    async forge(lab, i) {
      const next = await lab.next();
      if (lab.fixedWindow) {
        const w = lab.fixedWindow;
        return { group: await honestGroup(next, marketPrompt(i), lab.cheater, w, lab.profile), window: w, validator: lab.validator };
      }
      const w = benchWindow('previous-checkpoint', i, NEXT_REVISION);
      return { group: await honestGroup(lab.current, marketPrompt(i), lab.cheater, w, lab.profile), window: w, validator: next };
    },
  },
  edit('edit-middle', (r) => {
    const n = bodyLength(r);
    return n >= 3 ? r.promptLength + Math.floor((n - 1) / 2) : null;
  }),
  edit('edit-final', (r) => {
    const n = bodyLength(r);
    return n >= 1 ? r.promptLength + n - 1 : null;
  }),
  {
    name: 'answer-correction',
    async forge(lab, i) {
      const { g, w } = await own(lab, 'answer-correction', i, [2, 3, 4, 5, 6, 7]);
      const m = g.rollouts.findIndex((r) => r.reward === 0);
      if (m < 0) return null;
      const r = g.rollouts[m]!;
      const answer = DEVNET_CHAR_TOKENIZER.encode(ARITH.getProblem(g.promptIdx).groundTruth);
      const tokens = Int32Array.from([...r.tokens.subarray(0, r.promptLength), ...answer, CHAR_EOS]);
      return { group: withRollout(g, m, await recommit(lab.current, g.promptIdx, tokens, r.promptLength, w, lab.profile)), window: w, validator: lab.validator };
    },
  },
  {
    name: 'old-tokens',
    async forge(lab, i) {
      const w = lab.windowFor('old-tokens', i);
      const old = { ...benchWindow('old-tokens R1', i), checkpointHash: w.checkpointHash };
      const g = await honestGroup(lab.current, marketPrompt(i), lab.cheater, old, lab.profile);
      const rollouts: BenchRollout[] = [];
      for (const r of g.rollouts) rollouts.push(await recommit(lab.current, g.promptIdx, r.tokens, r.promptLength, w, lab.profile));
      return { group: { ...g, rollouts }, window: w, validator: lab.validator };
    },
  },
  {
    name: 'copied-group',
    async forge(lab, i) {
      const w = lab.windowFor('copied-group', i);
      const g = await honestGroup(lab.current, marketPrompt(i), lab.victim, w, lab.profile);
      return { group: { ...g, hotkey: lab.cheater }, window: w, validator: lab.validator };
    },
  },
  {
    name: 'prompt-mismatch',
    async forge(lab, i) {
      const w = lab.windowFor('prompt-mismatch', i);
      const p = marketPrompt(i);
      const g = await honestGroup(lab.current, p, lab.cheater, w, lab.profile, { textOf: marketPrompt(i + 1) });
      return { group: g, window: w, validator: lab.validator };
    },
  },
];

export const ATTACK_NAMES: readonly string[] = ATTACKS.map((a) => a.name);

/**
 * Positions tried / passed of one rollout: v4 sketch, every recomputed position, within the tolerance; v8 (proof
 * v2), every completion position, the claim among the validator's candidates (its sketch and drift variants).
 */
export function positionTally(proof: ProofForward, claim: MinerClaim, profile: Profile): { tried: number; passed: number } {
  let tried = 0, passed = 0;
  const v8 = profile.proof.scheme === 'v2';
  const n = v8 ? proof.sketchCandidates?.length ?? 0 : proof.sketches.length;
  for (let k = 0; k < n; k++) {
    const claimed = claim.commitments[k]?.sketch;
    if (v8) {
      const cands = proof.sketchCandidates![k];
      if (!cands) continue;
      tried++;
      if (typeof claimed === 'number' && cands.includes(claimed)) passed++;
    } else {
      const s = proof.sketches[k];
      if (s === undefined) continue;
      tried++;
      if (typeof claimed === 'number' && sketchDistance(claimed, s, profile.grail) <= sketchTolerance(k, profile.grail)) passed++;
    }
  }
  return { tried, passed };
}

/** Runs `groups` draws of one attack (at most 4× as many draws when some do not apply). */
export async function runAttack(lab: AttackLab, attack: Attack, groups: number, log?: (line: string) => void): Promise<AttackRow> {
  const row: AttackRow = { attack: attack.name, groups: 0, accepted: 0, accepted_differing: 0, reasons: {}, skipped: 0 };
  const pos = { tried: 0, passed: 0 };
  for (let i = 0; row.groups < groups && i < 4 * groups; i++) {
    const f = await attack.forge(lab, i);
    if (!f) {
      row.skipped++;
      continue;
    }
    row.groups++;
    const c = { model: f.validator, profile: lab.profile, window: f.window };
    const v = await judge(c, f.group);
    if (v) row.reasons[v.reason] = (row.reasons[v.reason] ?? 0) + 1;
    else {
      row.accepted++;
      const replay = await honestGroup(f.validator, f.group.promptIdx, f.group.hotkey, f.window, lab.profile, { rollouts: f.group.rollouts.length });
      if (!sameTokens(replay, f.group)) row.accepted_differing++;
    }
    if (attack.positions) {
      const records = await proofRecords(proverGroup(f.group), proverContext(f.validator, lab.profile, f.window));
      for (const { proof, claim } of records) {
        const t = positionTally(proof, claim, lab.profile);
        pos.tried += t.tried;
        pos.passed += t.passed;
      }
    }
  }
  if (attack.positions) row.positions = { ...pos, rate: pos.tried ? pos.passed / pos.tried : 0 };
  log?.(`${attack.name}: ${row.accepted}/${row.groups} accepted, ${row.accepted_differing} differing`);
  return row;
}
