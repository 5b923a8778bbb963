/**
 * The code devnet (issue 15): a validator serving env-code, graded by the pyodide sandbox, and N miners, on a tiny
 * random-init Qwen3 over the real Qwen3 vocabulary and BPE tokenizer (profile `DEVNET_CODE`), on 127.0.0.1, for W
 * windows, with the real admission and proof path (the devnet hosts of ../devnet with the Qwen3 tokenizer).
 *
 * The model is made on the fly into `<dataDir>/model` (seeded: the same seed gives the same bytes): config
 * `CODE_DEVNET_CONFIG` (2 layers, hidden 64, 4/2 heads of 16, SwiGLU 192, vocab 151,936, tied, 256 positions),
 * weights `initTinyWeights(cfg, seed)`. It cannot write Python: its completions contain no fenced program, so every
 * reward is 0 and every group is refused OUT_OF_ZONE — the point is that each submission goes through the grader.
 *
 * Grading: the market's admission (core/market/admission-worker.ts `gradeRevealJsonAsync`) awaits
 * `computeRewardAsync` for every rollout once the reveal has authenticated and its prompt binds; the worker's
 * `computeReward` then answers from memory. The environment and its runner are wrapped to count what happened
 * (`GradingStats`): gradings the worker asked for, completions that held a program, sandbox runs, rewards.
 *
 * @example
 *   const r = await runCodeDevnet({ windows: 1, miners: 1, dataDir: '/tmp/code-devnet', collectionSeconds: 30 });
 *   r.grading.workerGradings; // > 0
 */
import { mkdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CodeJob, CodeRunner, CodeRunResult } from '../../../core/interfaces/code-runner.ts';
import type { Problem } from '../../../core/interfaces/environment.ts';
import { gradeCompletion, type Grade } from '../../../core/market/admission-worker.ts';
import { saveCheckpoint } from '../../../core/model/checkpoint.ts';
import { qwen3ConfigJson, type Qwen3Config } from '../../../core/model/config.ts';
import { initTinyWeights } from '../../../core/model/tiny.ts';
import { DEVNET_CODE, type Profile } from '../../../core/profile/index.ts';
import { signerFromSeed } from '../../../core/protocol/sr25519.ts';
import { loadQwen3Tokenizer, QWEN3_ENDOFTEXT } from '../../../core/tokenizer/qwen3.ts';
import type { Tokenizer } from '../../../core/tokenizer/types.ts';
import { CODE_ENV_SPEC, envCode, type CodeEnvironment } from '../../../plugins/env-code/index.ts';
import { sampleCodeDatasetPath } from '../../../plugins/env-code/dataset-node.ts';
import { fileReader } from '../../../plugins/env-math/dataset-node.ts';
import { fastDevnetProfile } from '../devnet/devnet.ts';
import { startMiner, type MinerHost } from '../devnet/miner-host.ts';
import { startValidator, type ValidatorHost, type WindowReport } from '../devnet/validator-host.ts';
import { nodeCheckpointFs } from '../fs-checkpoint.ts';
import { pyodideSandbox, type PyodideSandbox } from '../sandbox/pool.ts';

/** The code devnet's model: the tiny config over the Qwen3 vocabulary, 256 positions (prompt ≤ 65 tokens + 48). */
export const CODE_DEVNET_CONFIG: Qwen3Config = Object.freeze({
  C: 64, F: 192, L: 2, NH: 4, NKV: 2, HD: 16, V: DEVNET_CODE.model.vocabSize, eps: 1e-6, ropeTheta: 10000, tied: true, dtype: 'float32',
  maxPositions: DEVNET_CODE.model.maxContext,
});

/** The default seed of the model. */
export const CODE_DEVNET_SEED = 15;

/** env-code's spec on the code devnet: the profile's entry (48 new tokens, whole-group truncation budget, mix 4). */
export const CODE_DEVNET_ENV_SPEC = Object.freeze({
  ...CODE_ENV_SPEC,
  maxNewTokens: DEVNET_CODE.environments['opencodeinstruct']!.maxNewTokens,
  maxTruncatedPerGroup: DEVNET_CODE.environments['opencodeinstruct']!.maxTruncatedPerGroup,
  mixWeight: DEVNET_CODE.environments['opencodeinstruct']!.batchGroups,
});

/** config.json of the code devnet model (EOS and pad `<|endoftext|>`). */
export function codeDevnetConfigJson(cfg: Qwen3Config = CODE_DEVNET_CONFIG): Record<string, unknown> {
  return { architectures: ['Qwen3ForCausalLM'], ...qwen3ConfigJson(cfg), eos_token_id: QWEN3_ENDOFTEXT, pad_token_id: QWEN3_ENDOFTEXT, bos_token_id: null };
}

/** Writes the seeded random model into `dir` (an HF checkpoint directory); returns `dir`. */
export async function makeCodeDevnetModel(dir: string, seed = CODE_DEVNET_SEED): Promise<string> {
  await mkdir(dir, { recursive: true });
  await saveCheckpoint(nodeCheckpointFs(), dir, {
    config: codeDevnetConfigJson(),
    tensors: new Map([...initTinyWeights(CODE_DEVNET_CONFIG, seed)].map(([name, t]) => [name, { dtype: 'f32' as const, shape: t.shape, data: t.data as Float32Array }])),
    generationConfig: { eos_token_id: [QWEN3_ENDOFTEXT], pad_token_id: QWEN3_ENDOFTEXT, do_sample: true, temperature: 1.0 },
  });
  return dir;
}

/** What the grader saw. */
export interface GradingStats {
  /** `computeReward` calls of the admission worker (one per rollout of every graded reveal). */
  workerGradings: number;
  /** `computeRewardAsync` calls (the admission's grading of every rollout of an authenticated reveal). */
  asyncGradings: number;
  /** Completions that held a program (a fenced block defining the entry point). */
  withProgram: number;
  /** Jobs the sandbox ran. */
  sandboxRuns: number;
  /** Worker rewards by value. */
  rewards: Record<string, number>;
  /** Worker gradings that failed (outage or exception), by fault. */
  faults: Record<string, number>;
}

/** env-code over the shipped dataset and `runner`, with the devnet spec, counting into `stats`. */
export function countingCodeEnv(runner: CodeRunner, stats: GradingStats): CodeEnvironment {
  const counted: CodeRunner = {
    run: (job: CodeJob): Promise<CodeRunResult> => {
      stats.sandboxRuns++;
      return runner.run(job);
    },
  };
  const env = envCode({ source: fileReader(sampleCodeDatasetPath()), runner: counted, spec: CODE_DEVNET_ENV_SPEC });
  return Object.freeze({
    ...env,
    computeRewardAsync: (problem: Problem, text: string): Promise<number> => {
      stats.asyncGradings++;
      if (/```/.test(text) && /\bdef\s/.test(text)) stats.withProgram++;
      return env.computeRewardAsync(problem, text);
    },
    computeReward: (problem: Problem, text: string): number => {
      stats.workerGradings++;
      try {
        const r = env.computeReward(problem, text);
        stats.rewards[String(r)] = (stats.rewards[String(r)] ?? 0) + 1;
        return r;
      } catch (e) {
        const k = e instanceof Error ? e.name : 'error';
        stats.faults[k] = (stats.faults[k] ?? 0) + 1;
        throw e;
      }
    },
  });
}

export const emptyGradingStats = (): GradingStats => ({ workerGradings: 0, asyncGradings: 0, withProgram: 0, sandboxRuns: 0, rewards: {}, faults: {} });

export interface CodeDevnetOptions {
  readonly windows: number;
  readonly miners: number;
  /** Model under `<dataDir>/model`, store and checkpoints under it too; emptied first. */
  readonly dataDir: string;
  readonly seed?: number;
  /** Collection seconds of a window (default the profile's 20). */
  readonly collectionSeconds?: number;
  /** Groups per miner per window (default 2). */
  readonly groupsPerWindow?: number;
  /** Sandbox interpreters (default 2). */
  readonly sandboxWorkers?: number;
  readonly log?: (line: string) => void;
  readonly onWindow?: (w: WindowReport, verdicts: readonly VerdictLine[]) => void;
}

/** One verdict the validator logged for a miner. */
export interface VerdictLine {
  readonly miner: string;
  readonly window: number;
  readonly reason: string;
  readonly detail: string;
}

export interface CodeDevnetResult {
  readonly profile: Profile;
  readonly windows: readonly WindowReport[];
  readonly verdicts: readonly VerdictLine[];
  readonly miners: readonly { readonly name: string; readonly hotkey: string; readonly stats: ReturnType<MinerHost['stats']> }[];
  /** The validator's gradings during the windows (the hand-written completion not included). */
  readonly grading: GradingStats;
  /** A hand-written correct completion through the worker's grading (`gradeCompletion`) after the async grading. */
  readonly handWritten: { readonly promptIdx: number; readonly before: Grade; readonly after: Grade; readonly sandboxRuns: number };
  readonly seconds: number;
}

/** Runs the code devnet (see the module comment). */
export async function runCodeDevnet(o: CodeDevnetOptions): Promise<CodeDevnetResult> {
  const started = Date.now();
  const log = o.log ?? (() => {});
  const dataDir = resolve(o.dataDir);
  await rm(dataDir, { recursive: true, force: true });
  // The interpreters load (seconds) while the model is made and the tokenizer's vocabulary is read.
  const sandbox: PyodideSandbox = pyodideSandbox({ workers: o.sandboxWorkers ?? 2 });
  const sandboxReady = sandbox.ready();
  sandboxReady.catch(() => {});
  const [modelDir, tokenizer] = await Promise.all([
    makeCodeDevnetModel(join(dataDir, 'model'), o.seed ?? CODE_DEVNET_SEED),
    loadQwen3Tokenizer() as Promise<Tokenizer>,
  ]).catch(async (e: unknown) => {
    await sandbox.close();
    throw e;
  });
  log(`code devnet: model ${DEVNET_CODE.model.id} (seed ${o.seed ?? CODE_DEVNET_SEED}) in ${modelDir}`);
  const grading = emptyGradingStats();
  // The validator's environment grades through the sandbox (counted); the miners' own copy has no runner (a miner
  // claims rewards from memory or 0; the validator overwrites fractional rewards anyway).
  const env = countingCodeEnv(sandbox, grading);
  const minerEnv = envCode({ source: fileReader(sampleCodeDatasetPath()), spec: CODE_DEVNET_ENV_SPEC });
  const profile = fastDevnetProfile(o.collectionSeconds ?? DEVNET_CODE.window.collectionSeconds, 3, DEVNET_CODE);
  let validator: ValidatorHost | null = null;
  const miners: MinerHost[] = [];
  const windows: WindowReport[] = [];
  const verdicts: VerdictLine[] = [];
  let stopped: Promise<unknown> | null = null;
  const stopMiners = (): Promise<unknown> => (stopped ??= Promise.all(miners.map((m) => m.stop().catch(() => {}))));
  try {
    await sandboxReady;
    log('code devnet: sandbox ready');
    validator = await startValidator({ profile, env, tokenizer, dataDir, modelDir, port: 0, log });
    const v = validator;
    for (let i = 0; i < o.miners; i++) {
      const signer = signerFromSeed(crypto.getRandomValues(new Uint8Array(32)));
      const coldkey = signerFromSeed(crypto.getRandomValues(new Uint8Array(32)));
      await v.chain.register(signer.ss58, coldkey.ss58);
      miners.push(await startMiner({
        name: `miner-${i + 1}`, profile: v.profile, env: minerEnv, tokenizer, baseUrl: v.url, validatorHotkey: v.hotkey, signer, selector: 'uniform',
        modelDir: v.startCheckpoint.dir, checkpointN: v.startCheckpoint.checkpointN, groupsPerWindow: o.groupsPerWindow ?? 2, log,
      }));
      log(`miner-${i + 1} ${signer.ss58}`);
    }
    for (const m of miners) m.start();
    const seen = new Map<string, number>();
    for (let w = 0; w < o.windows; w++) {
      const r = await v.runWindow();
      windows.push(r);
      const lines: VerdictLine[] = [];
      for (const m of miners) {
        for (const x of v.validator.verdicts(m.hotkey, seen.get(m.hotkey) ?? 0)) {
          const rec = x as unknown as Record<string, unknown>;
          seen.set(m.hotkey, Math.max(seen.get(m.hotkey) ?? 0, Number(rec['ts'] ?? 0)));
          const detail = ['reject_stage', 'sigma', 'reward_grading_ms', 'reject_reason'].filter((k) => rec[k] !== undefined && rec[k] !== null).map((k) => `${k}=${String(rec[k])}`).join(' ');
          lines.push({ miner: m.name, window: Number(rec['window_n'] ?? r.window), reason: String(rec['reason'] ?? ''), detail });
        }
      }
      verdicts.push(...lines);
      o.onWindow?.(r, lines);
    }
    await stopMiners();
    // A hand-written correct completion, graded as the admission worker grades (after the async grading).
    const idx = 3;
    const problem = env.getProblem(idx);
    const text = `Here is the solution.\n\`\`\`python\n${env.row(idx).reference ?? ''}\`\`\`${tokenizer.decode([QWEN3_ENDOFTEXT])}`;
    const devnetGrading: GradingStats = structuredClone(grading);
    const runsBefore = grading.sandboxRuns;
    const before = gradeCompletion(env, problem, text);
    await env.computeRewardAsync(problem, text);
    const after = gradeCompletion(env, problem, text);
    const handWritten = { promptIdx: idx, before, after, sandboxRuns: grading.sandboxRuns - runsBefore };
    return {
      profile: v.profile, windows, verdicts, grading: devnetGrading, handWritten,
      miners: miners.map((m) => ({ name: m.name, hotkey: m.hotkey, stats: m.stats() })),
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await stopMiners();
    await validator?.close();
    await sandbox.close();
  }
}

/** True when `dir` holds a checkpoint (config.json). */
export const hasCheckpoint = (dir: string): boolean => existsSync(join(dir, 'config.json'));
