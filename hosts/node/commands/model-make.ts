/**
 * `reliquary model make-tiny` and `reliquary model inspect` (issue 5, deliverable 5): make, describe and quickly
 * evaluate the embedded devnet model `reliquary/tiny-qwen3-arith` (core/model/tiny.ts).
 *
 *   reliquary model make-tiny [--out DIR] [--seed N] [--steps N] [--backend ref|wasm] [--eval-per-level N]
 *   reliquary model inspect --model DIR [--json] [--backend B] [--eval-per-level N]
 *
 * make-tiny initialises the tiny config from the seed, runs the supervised warm start (per-step loss on stderr every
 * 10 steps), measures pass@1 per level on the held-out split and writes an HF checkpoint directory: config.json,
 * model.safetensors (f32), generation_config.json, tokenizer_config.json (the char vocabulary) and a README.md with
 * the command, seed, steps, wall time and the measured pass@1. The result is byte-identical per seed on one backend
 * (ref; wasm for one build of kernels.wasm); ref and wasm round differently, so their models differ slightly.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { hasBackwardOps } from '../../../core/compute/backward.ts';
import { loadCheckpoint, saveCheckpoint } from '../../../core/model/checkpoint.ts';
import { parseQwen3Config } from '../../../core/model/config.ts';
import {
  makeTinyArith, overallPass, parameterCount, passAtOne, tinyArithConfigJson, tinyModel, TINY_ARITH_CONFIG, TINY_ARITH_RECIPE, TINY_ARITH_BASE_RECIPE, type TinyRecipe,
  type LevelPass,
} from '../../../core/model/tiny.ts';
import { DEVNET } from '../../../core/profile/index.ts';
import { CHAR_VOCAB, DEVNET_CHAR_TOKENIZER } from '../../../core/tokenizer/char.ts';
import { ARITH_LEVELS, envArith } from '../../../plugins/env-arith/index.ts';
import { nodeCheckpointFs } from '../fs-checkpoint.ts';
import { createBackend, modelTensors } from './model.ts';

/** The stream of the pass@1 measurement (fixed, so the README numbers are reproducible). */
export const EVAL_RANDOMNESS = 'e7'.repeat(32);
const EVAL_ROLLOUTS = 4;

export interface ModelMakeTinyOptions {
  out?: string | undefined;
  seed?: string | number | undefined;
  steps?: string | number | undefined;
  /** wasm when it has the backward ops (default; deterministic per seed for one wasm build), else ref. */
  backend?: string | undefined;
  /** Held-out problems per level for pass@1 (default 100: the whole held-out split). */
  evalPerLevel?: string | number | undefined;
  /** `devnet` (default: models/tiny-arith) or `base` (TINY_ARITH_BASE_RECIPE: models/tiny-arith-base, the experiment's model). */
  recipe?: string | undefined;
  out_?: (text: string) => void;
  err?: (text: string) => void;
}

function int(v: string | number | undefined, dflt: number, flag: string, min = 1): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${flag} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
}

/** The pass@1 table as text lines. */
export function passTable(levels: readonly LevelPass[]): string[] {
  const desc = (l: number): string => {
    const a = ARITH_LEVELS[l];
    return a ? `${a.digitsA}d ${a.ops.join('')} ${a.digitsB}d` : '';
  };
  return [
    '| level | problems | rollouts | pass@1 |',
    '|---|---:|---:|---:|',
    ...levels.map((l) => `| ${l.level} (${desc(l.level)}) | ${l.problems} | ${l.rollouts} | ${l.passAt1.toFixed(3)} |`),
    `| all | ${levels.reduce((a, l) => a + l.problems, 0)} | ${levels.reduce((a, l) => a + l.rollouts, 0)} | ${overallPass(levels).toFixed(3)} |`,
  ];
}

/** Runs `model make-tiny`; resolves to the exit code. */
export async function modelMakeTinyCommand(opts: ModelMakeTinyOptions): Promise<number> {
  const out = opts.out_ ?? ((t: string) => void process.stdout.write(t));
  const err = opts.err ?? ((t: string) => void process.stderr.write(t));
  try {
    const recipeName = opts.recipe ?? 'devnet';
    if (recipeName !== 'devnet' && recipeName !== 'base') throw new Error(`--recipe must be devnet or base, got ${JSON.stringify(recipeName)}`);
    const dir = opts.out ?? (recipeName === 'base' ? 'models/tiny-arith-base' : 'models/tiny-arith');
    const base = recipeName === 'base' ? TINY_ARITH_BASE_RECIPE : TINY_ARITH_RECIPE;
    const seed = int(opts.seed, base.seed, '--seed', 0);
    const steps = int(opts.steps, base.steps, '--steps');
    const perLevel = int(opts.evalPerLevel, 100, '--eval-per-level');
    const wasm = await createBackend('wasm');
    const backendName = opts.backend ?? (hasBackwardOps(wasm) ? 'wasm' : 'ref');
    const be = backendName === 'wasm' ? wasm : await createBackend(backendName);
    if (be !== wasm) wasm.destroy();
    try {
      if (!hasBackwardOps(be)) throw new Error(`backend ${backendName} has no backward ops; use ref`);
      const env = envArith();
      const t0 = performance.now();
      err(`make-tiny: ${parameterCount(TINY_ARITH_CONFIG)} parameters, seed ${seed}, ${steps} steps on ${backendName}\n`);
      const made = await makeTinyArith(be, {
        env, tokenizer: DEVNET_CHAR_TOKENIZER, recipe: { ...base, seed, steps },
        onStep: (s) => {
          if (s.step % 10 === 0 || s.step === steps - 1) {
            err(`step ${String(s.step).padStart(4)}  loss ${s.loss.toFixed(4)}  |g| ${s.gradNorm.toFixed(3)}  lr ${s.lr.toExponential(2)}\n`);
          }
        },
      });
      const trainSeconds = (performance.now() - t0) / 1000;
      const model = tinyModel(be, TINY_ARITH_CONFIG, made.tensors);
      const levels = await passAtOne(model, {
        env, tokenizer: DEVNET_CHAR_TOKENIZER, profile: DEVNET, perLevel, rollouts: EVAL_ROLLOUTS, randomness: EVAL_RANDOMNESS,
        levels: ARITH_LEVELS.length,
      });
      const wall = (performance.now() - t0) / 1000;
      const command = `reliquary model make-tiny --out ${dir} --seed ${seed} --steps ${steps} --backend ${backendName}${recipeName === 'base' ? ' --recipe base' : ''}`;
      await saveCheckpoint(nodeCheckpointFs(), dir, {
        config: tinyArithConfigJson(),
        tensors: made.tensors,
        generationConfig: { eos_token_id: [1], pad_token_id: 0, do_sample: false },
        tokenizerFiles: new Map([['tokenizer_config.json', tokenizerConfig()]]),
      }, { metadata: { format: 'pt', recipe: command } });
      const last = made.log[made.log.length - 1];
      await fsp.writeFile(join(dir, 'README.md'), readme({ recipe: { ...base, seed, steps }, command, seed, steps, trainSeconds, wall, levels, finalLoss: last?.loss ?? NaN, backendName, perLevel }));
      out(`${passTable(levels).join('\n')}\n\nwrote ${dir} (train ${trainSeconds.toFixed(1)} s, total ${wall.toFixed(1)} s)\n`);
      return 0;
    } finally {
      be.destroy();
    }
  } catch (e) {
    err(`model make-tiny: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

/** tokenizer_config.json of the char tokenizer (not an HF tokenizer class: read by core/tokenizer/char.ts). */
function tokenizerConfig(): Uint8Array {
  const cfg = {
    tokenizer_class: 'ReliquaryDevnetCharTokenizer',
    note: 'One token per character; ids fixed by core/tokenizer/char.ts (DEVNET_CHAR_TOKENIZER). Raw encoding, no BOS.',
    vocab: Object.fromEntries(CHAR_VOCAB.map((t, i) => [t, i])),
    eos_token: '<|endoftext|>',
    pad_token: '<pad>',
    model_max_length: TINY_ARITH_CONFIG.maxPositions,
  };
  return new TextEncoder().encode(`${JSON.stringify(cfg, null, 2)}\n`);
}

function readme(o: {
  recipe: TinyRecipe; command: string; seed: number; steps: number; trainSeconds: number; wall: number; levels: LevelPass[]; finalLoss: number;
  backendName: string; perLevel: number;
}): string {
  const c = TINY_ARITH_CONFIG;
  const r = o.recipe;
  const runOn = r.continueFraction ?? 0;
  return `# reliquary/tiny-qwen3-arith${runOn > 0 ? '-base' : ''}

${runOn > 0 ? 'The embedded base model of `reliquary experiment` (TINY_ARITH_BASE_RECIPE: a base-model-like warm start that often runs on after its answer)' : 'The embedded model of the devnet profile (`DEVNET`)'}: a ${parameterCount(c).toLocaleString('en')}-parameter Qwen3-architecture
model over the 32-id character tokenizer (\`core/tokenizer/char.ts\`; EOS id 1, pad id 0), warm-started on the
env-arith training split (\`plugins/env-arith\`). Made by \`core/model/tiny.ts\`; do not edit these files by hand.

## How it was made

\`\`\`
${o.command}
\`\`\`

- backend \`${o.backendName}\`, seed ${o.seed}, ${o.steps} steps, final loss ${o.finalLoss.toFixed(4)} nats/answer token
- wall time: ${o.trainSeconds.toFixed(1)} s training, ${o.wall.toFixed(1)} s with the evaluation (2-core machine)
- config: ${c.L} layers, hidden ${c.C}, SwiGLU ${c.F}, ${c.NH} query / ${c.NKV} KV heads of ${c.HD}, vocab ${c.V}, tied
  embeddings, RoPE θ ${c.ropeTheta}, f32 weights
- init: embeddings ±0.1 uniform, linears ±√(3/in) (o_proj, down_proj ÷√(2L)), norms 1
- supervised phase: cross-entropy of answer+EOS given the prompt (\`trainForward\`/\`trainBackward\` with dlogp = −1/N on
  the answer rows), batch ${r.batchSize}, fp32 AdamW (β 0.9/0.999, wd ${r.weightDecay}), LR ${r.lr} with ${r.warmupSteps} warmup steps
  then cosine to ${r.minLrFactor}×, grad clip ${r.gradClipNorm}; level sampling weights ${JSON.stringify(r.levelWeights)}${runOn > 0 ? `;
  run-on examples: a share ${runOn} of the examples continue after the answer with "\\n" and 1–3 more problems with their
  answers before the EOS (every row after the first prompt supervised), so the model stops after an answer about
  ${Math.round(100 * (1 - runOn))} % of the time` : ''}

## pass@1 (held-out split)

${o.perLevel} held-out problems per level (fewer where the band is smaller), ${EVAL_ROLLOUTS} forced-seed rollouts each at
T = 1 (randomness \`${EVAL_RANDOMNESS.slice(0, 8)}…\`, stream (randomness, held-out index, "")), max_new_tokens
${DEVNET.environments['arith']!.maxNewTokens}; a rollout is right when its completion without the final EOS is exactly the answer.

${passTable(o.levels).join('\n')}
`;
}

export interface ModelInspectOptions {
  model?: string | undefined;
  json?: boolean | undefined;
  backend?: string | undefined;
  /** Held-out problems per level for the quick pass@1 estimate (default 4; 0 skips it). */
  evalPerLevel?: string | number | undefined;
  out?: (text: string) => void;
  err?: (text: string) => void;
}

/** Runs `model inspect`; resolves to the exit code. */
export async function modelInspectCommand(opts: ModelInspectOptions): Promise<number> {
  const out = opts.out ?? ((t: string) => void process.stdout.write(t));
  const err = opts.err ?? ((t: string) => void process.stderr.write(t));
  try {
    if (!opts.model) throw new Error('missing --model DIR');
    const ckpt = await loadCheckpoint(nodeCheckpointFs(), opts.model);
    const cfg = parseQwen3Config(ckpt.config);
    const tensors = [...ckpt.tensors].map(([name, t]) => ({ name, dtype: t.dtype ?? 'f32', shape: [...t.shape], bytes: t.data.byteLength }));
    const dtypes: Record<string, number> = {};
    for (const t of tensors) dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
    const perLevel = int(opts.evalPerLevel, 4, '--eval-per-level', 0);
    let levels: LevelPass[] = [];
    if (perLevel > 0) {
      if (cfg.V !== DEVNET.model.vocabSize) throw new Error(`pass@1 needs the devnet vocabulary (${DEVNET.model.vocabSize}); pass --eval-per-level 0`);
      const be = await createBackend(opts.backend ?? 'wasm');
      try {
        levels = await passAtOne(tinyModel(be, cfg, modelTensors(ckpt.tensors)), {
          env: envArith(), tokenizer: DEVNET_CHAR_TOKENIZER, profile: DEVNET, perLevel, rollouts: EVAL_ROLLOUTS,
          randomness: EVAL_RANDOMNESS, levels: ARITH_LEVELS.length,
        });
      } finally {
        be.destroy();
      }
    }
    const report = {
      config: cfg,
      parameters: parameterCount(cfg),
      dtypes,
      tensors: { count: tensors.length, bytes: tensors.reduce((a, t) => a + t.bytes, 0), list: tensors },
      passAt1: levels.length ? { overall: overallPass(levels), levels } : null,
    };
    if (opts.json) {
      out(`${JSON.stringify(report, null, 1)}\n`);
      return 0;
    }
    const lines = [
      `model ${opts.model}`,
      `config: L=${cfg.L} C=${cfg.C} F=${cfg.F} NH=${cfg.NH} NKV=${cfg.NKV} HD=${cfg.HD} V=${cfg.V} tied=${cfg.tied} ropeTheta=${cfg.ropeTheta} eps=${cfg.eps} maxPositions=${cfg.maxPositions} dtype=${cfg.dtype}`,
      `parameters: ${report.parameters.toLocaleString('en')}`,
      `tensors: ${tensors.length} (${Object.entries(dtypes).map(([d, n]) => `${n} ${d}`).join(', ')}), ${report.tensors.bytes.toLocaleString('en')} bytes`,
      ...tensors.filter((t) => !/layers\.[1-9]\d*\./.test(t.name)).map((t) => `  ${t.name.padEnd(48)} ${t.dtype.padEnd(5)} [${t.shape.join(', ')}]`),
      ...(cfg.L > 1 ? [`  … and the same for layers 1 … ${cfg.L - 1}`] : []),
      ...(levels.length ? ['', `pass@1 estimate (${perLevel} held-out problems per level × ${EVAL_ROLLOUTS} rollouts, ${opts.backend ?? 'wasm'}):`, ...passTable(levels)] : []),
    ];
    out(`${lines.join('\n')}\n`);
    return 0;
  } catch (e) {
    err(`model inspect: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
