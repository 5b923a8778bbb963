/**
 * `reliquary experiment`: the seeds' experiment on the embedded model (issue 13; core/experiment/).
 *
 *   reliquary experiment [--quick] [--out DIR] [--steps S] [--seeds R] [--groups B] [--miners K] [--eval-problems N]
 *                        [--eval-k k] [--eval-every E] [--lr X] [--arms uniform,filter,market] [--model DIR] [--json]
 *
 * Three arms (uniform GRPO, DAPO filter, the market in fill-closed windows) × R seeds from the same checkpoint; a
 * progress bar on stderr while it runs (when stderr is a terminal, else one line per finished run); the report
 * table on stdout at the end. --out DIR (new or empty) gets report.md, report.json and two SVG plots.
 * Exit 0 when it completes; 1 with a one-line `experiment: …` message for a bad argument.
 */
import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_EXPERIMENT, QUICK_EXPERIMENT, runExperiment, type ExperimentConfig } from '../../../core/experiment/experiment.ts';
import { ARMS, type ArmName } from '../../../core/experiment/arm.ts';
import { curveSpec, differencesTable, renderJson, renderMarkdown, reportTable } from '../../../core/experiment/report.ts';
import { loadCheckpoint } from '../../../core/model/checkpoint.ts';
import { DEVNET_CHAR_TOKENIZER } from '../../../core/tokenizer/char.ts';
import { arithDifficultyPrior, arithPromptBucket, envArith } from '../../../plugins/env-arith/index.ts';
import { selectorFrontier } from '../../../plugins/selector-frontier/index.ts';
import { nodeCheckpointFs } from '../fs-checkpoint.ts';
import { renderSvg } from '../experiment/plot.ts';
import { createBackend } from './model.ts';
import { progressLine } from './train-loop.ts';

export interface ExperimentFlags {
  quick?: boolean;
  out?: string;
  steps?: string;
  seeds?: string;
  groups?: string;
  miners?: string;
  evalProblems?: string;
  evalK?: string;
  evalEvery?: string;
  lr?: string;
  arms?: string;
  model?: string;
  json?: boolean;
  write?: (s: string) => void;
  err?: (s: string) => void;
  progress?: boolean;
}

class UsageError extends Error {}

function int(v: string | undefined, dflt: number, flag: string, min: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
}

/** The config of the flags: --quick or the default, each value overridable. */
export function experimentConfig(f: ExperimentFlags): ExperimentConfig {
  const b = f.quick ? QUICK_EXPERIMENT : DEFAULT_EXPERIMENT;
  const arms = f.arms === undefined ? b.arms : f.arms.split(',').map((a) => a.trim());
  for (const a of arms) if (!(ARMS as readonly string[]).includes(a)) throw new UsageError(`unknown arm ${JSON.stringify(a)} (expected ${ARMS.join(', ')})`);
  const lr = f.lr === undefined ? b.learningRate : Number(f.lr);
  if (lr !== null && !(lr > 0 && lr < 1)) throw new UsageError(`--lr must be in (0, 1), got ${JSON.stringify(f.lr)}`);
  return {
    ...b,
    steps: int(f.steps, b.steps, '--steps', 1),
    seeds: int(f.seeds, b.seeds, '--seeds', 1),
    groups: int(f.groups, b.groups, '--groups', 1),
    miners: int(f.miners, b.miners, '--miners', 1),
    evalProblems: int(f.evalProblems, b.evalProblems, '--eval-problems', 1),
    evalK: int(f.evalK, b.evalK, '--eval-k', 1),
    evalEvery: int(f.evalEvery, b.evalEvery, '--eval-every', 1),
    learningRate: lr,
    arms: arms as ArmName[],
  };
}

async function checkOut(out: string): Promise<void> {
  const entries = await fsp.readdir(out).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw new UsageError(`cannot use --out ${out}: ${e.code ?? e.message}`);
  });
  if (entries.length > 0) throw new UsageError(`--out ${out} is not empty (use a new or empty directory)`);
}

/** Runs `reliquary experiment`; resolves to the exit code. */
export async function experimentCommand(f: ExperimentFlags): Promise<number> {
  const write = f.write ?? ((s: string) => void process.stdout.write(s));
  const err = f.err ?? ((s: string) => void process.stderr.write(s));
  const bar = f.progress ?? process.stderr.isTTY === true;
  let be: Awaited<ReturnType<typeof createBackend>> | undefined;
  try {
    const c = experimentConfig(f);
    if (f.out) await checkOut(f.out);
    const modelDir = f.model ?? 'models/tiny-arith-base';
    const stat = await fsp.stat(modelDir).catch(() => null);
    if (!stat?.isDirectory()) throw new UsageError(`no checkpoint directory at ${modelDir}`);
    const ckpt = await loadCheckpoint(nodeCheckpointFs(), modelDir);
    be = await createBackend('wasm');
    const env = envArith();
    const t0 = performance.now();
    const secs = (): string => `${((performance.now() - t0) / 1000).toFixed(0)} s`;
    const result = await runExperiment(c, {
      be, ckpt, env, tokenizer: DEVNET_CHAR_TOKENIZER, now: () => performance.now(),
      selector: (_i, hotkey, seed) => selectorFrontier({
        seed, hotkey, sigmaFloor: 0.24, groupSize: 16, bucket: arithPromptBucket, evidenceCarry: 0.8, objective: 'zone', bucketHint: arithDifficultyPrior,
      }),
      onProgress: (p) => {
        if (bar) err(`\r\x1b[2K[run ${p.run}/${p.runs} ${p.arm} seed ${p.seed}] ${progressLine(p.step, p.steps, `${p.phase}${p.detail ? ` ${p.detail}` : ''} · ${secs()}`, 16)}`);
      },
      onRun: (r) => {
        const last = r.evals[r.evals.length - 1]!;
        if (bar) err('\r\x1b[2K');
        err(`experiment: ${r.arm} ${r.seed}: pass@1 ${r.evals[0]!.eval.passAt1.toFixed(3)} → ${last.eval.passAt1.toFixed(3)} in ${r.steps.length} steps, ${last.rollouts} rollouts (${secs()})\n`);
      },
    });
    if (bar) err('\r\x1b[2K');
    if (f.out) {
      await fsp.mkdir(f.out, { recursive: true });
      await fsp.writeFile(join(f.out, 'report.md'), renderMarkdown(result));
      await fsp.writeFile(join(f.out, 'report.json'), renderJson(result));
      await fsp.writeFile(join(f.out, 'pass-at-1-vs-steps.svg'), await renderSvg(curveSpec(result, 'steps')));
      await fsp.writeFile(join(f.out, 'pass-at-1-vs-rollouts.svg'), await renderSvg(curveSpec(result, 'rollouts')));
    }
    if (f.json) write(`${JSON.stringify({ config: result.config, summary: result.summary })}\n`);
    else write(`${reportTable(result)}\n\n${differencesTable(result)}\n\n${result.wallSeconds.toFixed(0)} s${f.out ? ` → ${resolve(f.out)}` : ''}\n`);
    return 0;
  } catch (e) {
    if (bar) err('\r\x1b[2K');
    err(`experiment: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    be?.destroy();
  }
}
