/**
 * The embedded devnet model `reliquary/tiny-qwen3-arith` (profile DEVNET) and the recipe that makes it: a tiny
 * Qwen3-architecture network over the 32-id character tokenizer, initialised from a seed and warm-started by a short
 * supervised phase on the training split of env-arith, so that its pass@1 under the forced-seed sampler at T = 1
 * spans easy (one-digit sums: almost always right), frontier (two-digit sums, one-digit products: sometimes right)
 * and impossible levels (multi-digit products: never right).
 *
 * Supervised phase (one step, B sequences right-padded to T):
 *   sequence  = encode(prompt) ‖ encode(answer) ‖ EOS         e.g. "47+8=" "55" <eos>
 *   targets   = sequence shifted by one; row t predicts token t+1
 *   dlogp     = −1/N on the N answer rows of the batch (answer tokens and the EOS), 0 on prompt and padding rows,
 *               so the loss Σ dlogp·logp is the mean cross-entropy of the answer tokens
 *   step      = trainForward → trainBackward (core/model/backward.ts) → global-norm clip → fp32 AdamW (adamw.ts),
 *               LR linear warmup then cosine to `minLrFactor`·lr
 * Problems are drawn by a seeded PRNG: a level by `levelWeights`, then an index uniformly in its band of the
 * training split. The held-out split is never trained on; pass@1 is measured there.
 *
 * Everything is a pure function of (recipe, backend): on `ref` the same seed gives the same bytes.
 *
 * @example
 *   const made = await makeTinyArith(new RefBackend(), { recipe: { ...TINY_ARITH_RECIPE, seed: 2 } });
 *   made.tensors; // HF name → f32 tensor, ready for saveCheckpoint with tinyArithConfigJson()
 */
import type { ComputeBackend } from '../compute/backend.ts';
import { hasBackwardOps } from '../compute/backward.ts';
import type { Environment } from '../interfaces/environment.ts';
import type { Profile } from '../profile/index.ts';
import type { Tokenizer } from '../tokenizer/types.ts';
import { adamwStep, createAdamW, type AdamWState } from '../training/adamw.ts';
import { createQwen3Grads, disposeQwen3Grads, trainBackward, trainForward, type Qwen3Grads } from './backward.ts';
import { qwen3ConfigJson, type Qwen3Config } from './config.ts';
import { Qwen3Model } from './forward.ts';
import { generateRollouts } from './generate.ts';
import { disposeQwen3Weights, qwen3WeightShapes, uploadQwen3Weights, type HostTensor, type Qwen3Layer } from './weights.ts';
import { mulberry32 } from './rng.ts';
export { mulberry32 };

/** The tiny config: 2 layers, hidden 64, 4 query / 2 KV heads of 16, SwiGLU 192, vocab 32, tied, f32. */
export const TINY_ARITH_CONFIG: Qwen3Config = Object.freeze({
  C: 64, F: 192, L: 2, NH: 4, NKV: 2, HD: 16, V: 32, eps: 1e-6, ropeTheta: 10000, tied: true, dtype: 'float32', maxPositions: 256,
});

/** config.json of the tiny model (HF Qwen3 fields plus the architecture name and the EOS / pad ids). */
export function tinyArithConfigJson(cfg: Qwen3Config = TINY_ARITH_CONFIG): Record<string, unknown> {
  return { architectures: ['Qwen3ForCausalLM'], ...qwen3ConfigJson(cfg), eos_token_id: 1, pad_token_id: 0, bos_token_id: null };
}

export interface TinyRecipe {
  /** Initialisation and problem-sampling seed. */
  readonly seed: number;
  /** Optimizer steps. */
  readonly steps: number;
  /** Sequences per step. */
  readonly batchSize: number;
  readonly lr: number;
  readonly warmupSteps: number;
  /** The cosine decays the LR to lr·minLrFactor at the last step. */
  readonly minLrFactor: number;
  readonly weightDecay: number;
  readonly gradClipNorm: number;
  /** Relative sampling weight of each env-arith level (index = level). */
  readonly levelWeights: readonly number[];
  /**
   * Share of supervised examples that do not stop after the answer but run on like pretraining text:
   * prompt ‖ answer ‖ "\n" ‖ 1–3 more problems with their answers ‖ EOS (every row after the first prompt supervised).
   * 0 (the devnet model): every example stops. > 0 gives a base-model-like checkpoint that often keeps writing after
   * a right answer (the exact-answer reward then reads 0, and long runs truncate), the behaviour RL is known to fix
   * first (the seeds' base model truncates 80.5 % of its rollouts); see TINY_ARITH_BASE_RECIPE.
   */
  readonly continueFraction?: number;
}

/** The shipped recipe (models/tiny-arith/README.md records the command that runs it). */
export const TINY_ARITH_RECIPE: TinyRecipe = Object.freeze({
  seed: 1,
  steps: 2000,
  batchSize: 64,
  lr: 3e-3,
  warmupSteps: 20,
  minLrFactor: 0.1,
  weightDecay: 0.01,
  gradClipNorm: 1.0,
  levelWeights: Object.freeze([3, 3, 3, 3, 2, 1, 1, 0.5, 0.5]),
});

/**
 * The experiment's embedded base model (models/tiny-arith-base, `reliquary experiment`'s default): the devnet recipe
 * with half of the supervised examples running on after the answer (`continueFraction`) and 1000 steps, so the
 * warm-started model stops after its answer only about half of the time (held-out pass@1 0.204 against pass@4 0.41). Why: GRPO on the
 * devnet model cannot move held-out pass@1 within an experiment's budget (150 uniform steps of B = 32 at lr 3e-4:
 * +0.1 pp [−0.8, +1.1]; lr 1e-3: −13.7 pp), because what it still gets wrong is arithmetic it would have to learn
 * problem by problem, while RL here only sharpens what the model already does. Stopping is one behaviour shared by
 * every problem, as a base model's over-long answers are, so RL's gains generalise to the held-out split.
 */
export const TINY_ARITH_BASE_RECIPE: TinyRecipe = Object.freeze({ ...TINY_ARITH_RECIPE, steps: 1000, continueFraction: 0.5 });


/**
 * Training initialisation, deterministic in `seed`: embeddings uniform ±0.1 (tied: also the LM head), linear
 * weights uniform ±√(3/in) (unit gain), the two residual outputs (o_proj, down_proj) scaled by 1/√(2L), norms 1.
 */
export function initTinyWeights(cfg: Qwen3Config, seed: number): Map<string, HostTensor> {
  const rand = mulberry32(seed);
  const out = new Map<string, HostTensor>();
  for (const [name, shape] of qwen3WeightShapes(cfg)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (shape.length === 1) data.fill(1);
    else {
      const residualOut = name.endsWith('o_proj.weight') || name.endsWith('down_proj.weight');
      const a = name.includes('embed_tokens') || name === 'lm_head.weight' ? 0.1
        : Math.sqrt(3 / shape[1]!) / (residualOut ? Math.sqrt(2 * cfg.L) : 1);
      for (let i = 0; i < n; i++) data[i] = a * (2 * rand() - 1);
    }
    out.set(name, { shape, data, dtype: 'f32' });
  }
  return out;
}

/** Parameters of a config (a tied LM head counted once). */
export function parameterCount(cfg: Qwen3Config): number {
  let n = 0;
  for (const shape of qwen3WeightShapes(cfg).values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}

/** An arithmetic environment with levels: env-arith's shape, as the recipe needs it (no plugin import in core/). */
export interface LeveledEnvironment extends Environment {
  level(i: number): number;
  readonly heldOut: Environment & { level(i: number): number };
}

/** One supervised example: prompt ‖ answer ‖ EOS, and where the answer starts. */
export function sftExample(env: Environment, i: number, tok: Tokenizer): { tokens: number[]; promptLen: number } {
  const p = env.getProblem(i);
  const prompt = tok.encode(p.prompt);
  return { tokens: [...prompt, ...tok.encode(p.groundTruth), tok.eosTokenIds[0]!], promptLen: prompt.length };
}

/**
 * A run-on example (`TinyRecipe.continueFraction`): prompt ‖ answer ‖ "\n" ‖ `more` further problems `q‖a` joined by
 * "\n" ‖ EOS. `promptLen` is the first prompt's, so every later row is supervised.
 */
export function runOnExample(env: Environment, i: number, more: readonly number[], tok: Tokenizer): { tokens: number[]; promptLen: number } {
  const first = sftExample(env, i, tok);
  const tail = more.flatMap((j) => {
    const p = env.getProblem(j);
    return [...tok.encode('\n'), ...tok.encode(p.prompt), ...tok.encode(p.groundTruth)];
  });
  return { tokens: [...first.tokens.slice(0, -1), ...tail, tok.eosTokenIds[0]!], promptLen: first.promptLen };
}

/** Training-split indices of every level (index = level). */
export function levelBands(env: LeveledEnvironment, levels: number): number[][] {
  const bands: number[][] = Array.from({ length: levels }, () => []);
  for (let i = 0; i < env.size; i++) bands[env.level(i)]?.push(i);
  return bands;
}

/** A padded supervised batch: tokens/targets (B,T), dlogp (B,T) = −1/N on answer rows. */
export function sftBatch(examples: readonly { tokens: number[]; promptLen: number }[], pad: number) {
  const B = examples.length;
  const T = Math.max(...examples.map((e) => e.tokens.length)) - 1;
  const tokens = new Int32Array(B * T).fill(pad);
  const targets = new Int32Array(B * T).fill(pad);
  const dlogp = new Float32Array(B * T);
  let N = 0;
  for (const e of examples) N += e.tokens.length - e.promptLen;
  examples.forEach((e, b) => {
    for (let t = 0; t < e.tokens.length - 1; t++) {
      tokens[b * T + t] = e.tokens[t]!;
      targets[b * T + t] = e.tokens[t + 1]!;
      if (t >= e.promptLen - 1) dlogp[b * T + t] = -1 / N;
    }
  });
  return { B, T, tokens, targets, dlogp, N };
}

const LAYER_NAMES: readonly (readonly [keyof Qwen3Layer, string])[] = [
  ['inputNorm', 'input_layernorm.weight'], ['qProj', 'self_attn.q_proj.weight'], ['kProj', 'self_attn.k_proj.weight'],
  ['vProj', 'self_attn.v_proj.weight'], ['oProj', 'self_attn.o_proj.weight'], ['qNorm', 'self_attn.q_norm.weight'],
  ['kNorm', 'self_attn.k_norm.weight'], ['postNorm', 'post_attention_layernorm.weight'], ['gateProj', 'mlp.gate_proj.weight'],
  ['upProj', 'mlp.up_proj.weight'], ['downProj', 'mlp.down_proj.weight'],
];

/** The gradients in `qwen3WeightShapes` order (the optimizer's parameter order), downloaded. */
async function downloadGrads(be: ComputeBackend, cfg: Qwen3Config, g: Qwen3Grads): Promise<Float32Array[]> {
  const byName = new Map([['model.embed_tokens.weight', g.embed], ['model.norm.weight', g.norm], ['lm_head.weight', g.lmHead]]);
  g.layers.forEach((l, i) => {
    for (const [key, suffix] of LAYER_NAMES) byName.set(`model.layers.${i}.${suffix}`, l[key]);
  });
  const out: Float32Array[] = [];
  for (const name of qwen3WeightShapes(cfg).keys()) out.push(await be.download(byName.get(name)!));
  return out;
}

/** LR at step s: linear warmup, then cosine from lr to lr·minLrFactor at the last step. */
export function tinyLr(s: number, r: TinyRecipe): number {
  if (s < r.warmupSteps) return (r.lr * (s + 1)) / r.warmupSteps;
  const x = Math.min(1, (s - r.warmupSteps) / Math.max(1, r.steps - 1 - r.warmupSteps));
  return r.lr * (r.minLrFactor + (1 - r.minLrFactor) * 0.5 * (1 + Math.cos(Math.PI * x)));
}

export interface StepLog {
  readonly step: number;
  /** mean cross-entropy of the answer tokens (nats) */
  readonly loss: number;
  readonly gradNorm: number;
  readonly lr: number;
}

export interface MakeTinyOptions {
  readonly env: LeveledEnvironment;
  readonly tokenizer: Tokenizer;
  readonly recipe?: Partial<TinyRecipe>;
  readonly cfg?: Qwen3Config;
  readonly onStep?: (s: StepLog) => void;
}

/** A trained parameter: f32, as the recipe publishes it. */
export interface F32Tensor {
  readonly dtype: 'f32';
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Runs the recipe on `be` (which must implement BackwardOps); returns the trained f32 tensors and the step log. */
export async function makeTinyArith(be: ComputeBackend, opts: MakeTinyOptions): Promise<{ tensors: Map<string, F32Tensor>; log: StepLog[] }> {
  if (!hasBackwardOps(be)) throw new Error(`makeTinyArith: backend '${be.name}' has no backward ops (use ref)`);
  const r: TinyRecipe = { ...TINY_ARITH_RECIPE, ...opts.recipe };
  const cfg = opts.cfg ?? TINY_ARITH_CONFIG;
  const init = initTinyWeights(cfg, r.seed);
  const opt: AdamWState = createAdamW([...init].map(([name, t]) => ({ name, shape: t.shape, data: t.data as Float32Array })));
  const bands = levelBands(opts.env, r.levelWeights.length);
  const totalW = r.levelWeights.reduce((a, b) => a + b, 0);
  const rand = mulberry32(r.seed ^ 0x5eed);
  const drawLevel = (): number => {
    let x = rand() * totalW;
    for (let l = 0; l < r.levelWeights.length; l++) if ((x -= r.levelWeights[l]!) < 0 && bands[l]!.length > 0) return l;
    return 0;
  };
  const log: StepLog[] = [];
  const hyper = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: r.weightDecay };
  const draw = (): number => {
    const band = bands[drawLevel()]!;
    return band[Math.floor(rand() * band.length)]!;
  };
  const runOn = r.continueFraction ?? 0;
  for (let s = 0; s < r.steps; s++) {
    const examples = Array.from({ length: r.batchSize }, () => {
      const i = draw();
      // Only a run-on recipe draws the extra numbers, so the devnet recipe's stream (and bytes) are unchanged.
      if (runOn > 0 && rand() < runOn) return runOnExample(opts.env, i, Array.from({ length: 1 + Math.floor(rand() * 3) }, draw), opts.tokenizer);
      return sftExample(opts.env, i, opts.tokenizer);
    });
    const batch = sftBatch(examples, opts.tokenizer.padTokenId);
    const weights = uploadQwen3Weights(be, cfg, new Map(opt.params.map((p) => [p.name, { shape: p.shape, data: p.master }])));
    const grads = createQwen3Grads(be, cfg);
    let loss = 0;
    let gs: Float32Array[];
    try {
      const acts = trainForward(be, cfg, weights, batch.tokens, batch.targets, batch.B, batch.T);
      const lp = await be.download(acts.logprobs);
      for (let i = 0; i < lp.length; i++) loss += batch.dlogp[i]! * lp[i]!;
      trainBackward(be, cfg, weights, acts, batch.dlogp, grads);
      gs = await downloadGrads(be, cfg, grads);
    } finally {
      disposeQwen3Grads(be, grads);
      disposeQwen3Weights(be, weights);
    }
    let sq = 0;
    for (const g of gs) for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
    const gradNorm = Math.sqrt(sq);
    const lr = tinyLr(s, r);
    adamwStep(opt, gs, { ...hyper, lr }, Math.min(1, r.gradClipNorm / (gradNorm + 1e-6)));
    const rec = { step: s, loss, gradNorm, lr };
    log.push(rec);
    opts.onStep?.(rec);
  }
  const tensors = new Map<string, F32Tensor>(opt.params.map((p) => [p.name, { shape: p.shape, data: p.master, dtype: 'f32' }]));
  return { tensors, log };
}

export interface PassAtOneOptions {
  readonly env: LeveledEnvironment;
  readonly tokenizer: Tokenizer;
  readonly profile: Pick<Profile, 'sampling' | 'forcedSeed' | 'grail' | 'proof' | 'environments'>;
  /** Held-out problems per level (taken from the start of each level's band). */
  readonly perLevel: number;
  /** Forced-seed rollouts per problem. */
  readonly rollouts: number;
  /** Window randomness of the stream (hex). */
  readonly randomness: string;
  readonly levels: number;
}

export interface LevelPass {
  readonly level: number;
  readonly problems: number;
  readonly rollouts: number;
  readonly correct: number;
  readonly passAt1: number;
}

/**
 * pass@1 per level on the held-out split: `rollouts` forced-seed samples (T = 1, stream (randomness, held-out index,
 * "")) of `perLevel` problems per level; a rollout is right when its completion, without the final EOS, decodes to
 * exactly the ground truth (env reward).
 */
export async function passAtOne(model: Qwen3Model, o: PassAtOneOptions): Promise<LevelPass[]> {
  const maxNew = o.profile.environments['arith']?.maxNewTokens ?? 32;
  const eos = o.tokenizer.eosTokenIds;
  const byLevel = Array.from({ length: o.levels }, () => [] as number[]);
  for (let i = 0; i < o.env.heldOut.size; i++) {
    const l = o.env.heldOut.level(i);
    if (byLevel[l] && byLevel[l].length < o.perLevel) byLevel[l].push(i);
  }
  const out: LevelPass[] = [];
  for (let l = 0; l < o.levels; l++) {
    let correct = 0;
    let n = 0;
    for (const i of byLevel[l]!) {
      const problem = o.env.heldOut.getProblem(i);
      const rollouts = await generateRollouts(model, {
        prompt: o.tokenizer.encode(problem.prompt), profile: o.profile, rollouts: o.rollouts, maxNewTokens: maxNew,
        eosTokenIds: eos, stream: { randomness: o.randomness, promptIdx: i, checkpointHash: '' },
      });
      for (const ro of rollouts) {
        const completion = Array.from(ro.tokens.subarray(ro.promptLength));
        if (!ro.truncated) completion.pop();
        correct += o.env.heldOut.computeReward(problem, o.tokenizer.decode(completion));
        n++;
      }
    }
    out.push({ level: l, problems: byLevel[l]!.length, rollouts: n, correct, passAt1: n > 0 ? correct / n : NaN });
  }
  return out;
}

/** Overall pass@1 of a per-level table (rollout-weighted). */
export function overallPass(levels: readonly LevelPass[]): number {
  const n = levels.reduce((a, l) => a + l.rollouts, 0);
  return n > 0 ? levels.reduce((a, l) => a + l.correct, 0) / n : NaN;
}

/** A model over `be` from host tensors (convenience for the CLI, the bench and the tests). */
export function tinyModel(be: ComputeBackend, cfg: Qwen3Config, tensors: ReadonlyMap<string, HostTensor>): Qwen3Model {
  return new Qwen3Model(be, cfg, uploadQwen3Weights(be, cfg, tensors));
}
