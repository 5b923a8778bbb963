/**
 * `reliquary train`: the offline GRPO loop of core/training/loop.ts on the embedded model and an environment plugin
 * (issue 6, deliverable 6; default env-arith).
 *
 *   reliquary train [--model DIR] [--env MODULE] [--steps N] [--backend B] [--out DIR] [--eval-every K] [--json]
 *
 * `--env` takes an environment plugin as the nodes do (hosts/node/nodes/config.ts: a built-in name such as
 * `env-math`, a module path or a package), assembled through the registry and checked as an environment set, whose
 * effective profile the trainer uses. Held-out pass@1 is measured on the environment's `heldOut` split; one without
 * it is measured on its own problems (said on stderr).
 *
 * DIR (default models/tiny-arith) is a trainer checkpoint; its trainer state, when present, is resumed. Each step
 * prints one line (the trainer's record as `train step` prints it, plus in-zone groups and tokens/s); held-out
 * pass@1 is printed before the first step, every K steps and after the last; a progress bar redraws on stderr
 * when it is a terminal. --out DIR (new or empty) receives the final checkpoint with its trainer state. --json prints
 * one JSON object per line (`{"type":"step",…}` / `{"type":"eval",…}`) on stdout instead of text.
 *
 * Exit 0 when the run completes; 1 with a one-line `train: …` message for a bad argument or checkpoint.
 */
import { promises as fsp } from 'node:fs';
import { resolve } from 'node:path';
import { hasBackwardOps } from '../../../core/compute/backward.ts';
import type { ComputeBackend } from '../../../core/compute/backend.ts';
import { loadCheckpoint } from '../../../core/model/checkpoint.ts';
import { DEVNET } from '../../../core/profile/index.ts';
import { DEVNET_CHAR_TOKENIZER } from '../../../core/tokenizer/char.ts';
import { runTrainLoop, type EvalRecord, type LoopStepRecord } from '../../../core/training/loop.ts';
import { readTrainerState } from '../../../core/training/state.ts';
import { createTrainer, disposeTrainer, saveTrainerCheckpoint } from '../../../core/training/trainer.ts';
import type { Environment } from '../../../core/interfaces/environment.ts';
import type { LoopEnvironment } from '../../../core/training/loop.ts';
import { nodeCheckpointFs } from '../fs-checkpoint.ts';
import { assembleMiner } from '../nodes/assemble.ts';
import { EMPTY_CONFIG, withEnvModules } from '../nodes/config.ts';
import { BACKENDS, createBackend } from './model.ts';
import { formatStepRecord } from './train.ts';

export interface TrainOptions {
  model?: string | undefined;
  /** An environment plugin: a built-in name, a module path or a package (default env-arith). */
  env?: string | undefined;
  steps?: string | number | undefined;
  /** ref | wasm | webgpu (default wasm) */
  backend?: string | undefined;
  out?: string | undefined;
  evalEvery?: string | number | undefined;
  json?: boolean | undefined;
  /** Seed of the per-step randomness (default the loop's). */
  seed?: string | undefined;
  write?: (text: string) => void;
  err?: (text: string) => void;
  /** Draw the progress bar (default: stderr is a TTY and not --json). */
  progress?: boolean;
}

class UsageError extends Error {}

function int(v: string | number | undefined, dflt: number, flag: string, min: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
}

/** A one-line stderr progress bar: `[#####.....] step 3/20 · prompts 5/16 · in zone 2`. */
export function progressLine(step: number, steps: number, detail: string, width = 24): string {
  const filled = Math.round((width * step) / Math.max(1, steps));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] step ${step}/${steps}${detail ? ` · ${detail}` : ''}`;
}

/** The per-step line: the trainer record, then the loop's view. */
export function formatLoopStep(r: LoopStepRecord): string {
  const tps = Number.isFinite(r.tokensPerSecond) ? `, ${Math.round(r.tokensPerSecond)} tokens/s` : '';
  return `[${r.step}] ${formatStepRecord(r.record)}; in zone ${r.inZone}/${r.candidates} prompts, ` +
    `sampled mean reward ${r.meanReward.toFixed(3)}, ${r.generatedTokens} tokens generated in ${(r.generateMs / 1000).toFixed(2)} s${tps}`;
}

/** The eval line. */
export function formatEval(e: EvalRecord): string {
  return `eval after ${e.step} steps: held-out pass@1 ${e.passAt1.toFixed(3)} (${e.correct}/${e.problems})`;
}

/** The environment of `--env` (through the registry, as the nodes load it) and the effective profile. */
async function loopEnvironment(env: string | undefined, err: (text: string) => void): Promise<{ env: LoopEnvironment; profile: typeof DEVNET }> {
  const parts = await assembleMiner(withEnvModules(EMPTY_CONFIG, env === undefined ? [] : [env]));
  const envs = parts.environments.environments;
  if (envs.length !== 1) throw new UsageError(`--env ${env}: the offline loop trains one environment, this gives ${envs.length}`);
  const e: Environment = envs[0]!;
  if (e.heldOut) return { env: e as LoopEnvironment, profile: parts.environments.profile };
  err(`train: environment ${e.name} has no held-out split; pass@1 is measured on its own problems\n`);
  return { env: Object.assign(Object.create(e) as Environment, { heldOut: e }), profile: parts.environments.profile };
}

async function checkOutDir(out: string, model: string): Promise<void> {
  if (resolve(out) === resolve(model)) throw new UsageError('--out must differ from --model (the input checkpoint is kept)');
  const entries = await fsp.readdir(out).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw new UsageError(`cannot use --out ${out}: ${e.code ?? e.message}`);
  });
  if (entries.length > 0) throw new UsageError(`--out ${out} is not empty (use a new or empty directory)`);
}

/** Runs `reliquary train`; resolves to the exit code. */
export async function trainCommand(opts: TrainOptions): Promise<number> {
  const write = opts.write ?? ((s: string) => void process.stdout.write(s));
  const err = opts.err ?? ((s: string) => void process.stderr.write(s));
  const bar = opts.progress ?? (!opts.json && process.stderr.isTTY === true);
  let be: ComputeBackend | undefined;
  try {
    const model = opts.model ?? 'models/tiny-arith';
    const steps = int(opts.steps, 20, '--steps', 1);
    const evalEvery = int(opts.evalEvery, 10, '--eval-every', 0);
    const backendName = opts.backend ?? 'wasm';
    if (!(BACKENDS as readonly string[]).includes(backendName)) {
      throw new UsageError(`unknown backend ${JSON.stringify(backendName)} (expected one of ${BACKENDS.join(', ')})`);
    }
    const stat = await fsp.stat(model).catch(() => null);
    if (!stat?.isDirectory()) {
      throw new UsageError(`no checkpoint directory at ${model}${opts.model ? '' : ' (make it with `reliquary model make-tiny`)'}`);
    }
    if (opts.out) await checkOutDir(opts.out, model);
    const { env, profile } = await loopEnvironment(opts.env, err);
    const fs = nodeCheckpointFs();
    const ckpt = await loadCheckpoint(fs, model);
    const saved = await readTrainerState(fs, model);
    be = await createBackend(backendName);
    if (!hasBackwardOps(be)) throw new UsageError(`backend ${backendName} has no backward ops`);
    const trainer = createTrainer(be, ckpt, profile, saved);
    const clear = (): void => {
      if (bar) err('\r\x1b[2K');
    };
    const emit = (obj: Record<string, unknown>, text: string): void => {
      clear();
      write(opts.json ? `${JSON.stringify(obj)}\n` : `${text}\n`);
    };
    try {
      const t0 = performance.now();
      const res = await runTrainLoop(trainer, {
        env, tokenizer: DEVNET_CHAR_TOKENIZER, steps, evalEvery,
        ...(opts.seed !== undefined && { seed: opts.seed }),
        now: () => performance.now(),
        onStep: (r) => emit({ type: 'step', ...r }, formatLoopStep(r)),
        onEval: (e) => emit({ type: 'eval', ...e }, formatEval(e)),
        onProgress: (p) => {
          if (bar) err(`\r\x1b[2K${progressLine(p.step, steps, `prompts ${p.candidates}/${p.maxCandidates} · in zone ${p.inZone}`)}`);
        },
      });
      clear();
      const secs = (performance.now() - t0) / 1000;
      const first = res.evals[0], last = res.evals[res.evals.length - 1];
      const summary = `${env.name}: ${steps} steps in ${secs.toFixed(1)} s (${(steps / secs).toFixed(3)} steps/s on ${backendName})` +
        (first && last && last !== first ? `; held-out pass@1 ${first.passAt1.toFixed(3)} → ${last.passAt1.toFixed(3)}` : '');
      if (opts.out) await saveTrainerCheckpoint(fs, opts.out, trainer);
      if (opts.json) write(`${JSON.stringify({ type: 'summary', env: env.name, steps, seconds: secs, backend: backendName, out: opts.out ?? null })}\n`);
      else write(`${summary}${opts.out ? `\n→ ${opts.out}` : ''}\n`);
    } finally {
      disposeTrainer(trainer);
    }
    return 0;
  } catch (e) {
    err(`train: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    be?.destroy();
  }
}
