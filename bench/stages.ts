/**
 * The stage bench behind `reliquary bench stages`: what the market's stages cost per backend, at the embedded tiny
 * model (models/tiny-arith, its real checkpoint and env-arith prompts) and at a Qwen3-0.6B shape (random bf16 weights
 * made on the fly: C 1024, F 3072, 28 layers, 16/8 heads of 128, vocabulary 151936, tied).
 *
 * Stages (one group of M rollouts of one prompt, under the devnet profile's proof and sampling):
 *   forward    Qwen3Model.forward of T tokens with log-probs of T targets (the prefill every stage is built on), its
 *              ratio to the roof taken from 3 runs, each right after a roof of its own (the median);
 *   generate   generateRollouts: M rollouts with the KV cache, full-vocabulary sampling and commitments;
 *   verify     proveGroup on that group: proofForwards of its rollouts (core/model/proof.ts) + verifyRollouts
 *              (core/protocol/checks.ts), the validator's one prover (core/validator/prover.ts);
 *   admission  the admission CPU work of a group besides the forward: prompt binding and env-arith's reward
 *              recomputed (bench/proof/setup.ts `admit`, the stage-C checks of core/market/admission-worker.ts);
 *              signatures and the reveal parse are not in it;
 *   train      one GRPO trainStep (core/training/trainer.ts) on a synthetic batch of 16 rollouts (bench/train.ts).
 * Each row: tokens and ms (tokens/s: completion tokens of the group for generate and verify, so verify/generate is
 * how many groups a validator proves in the time a miner generates one), achieved GFLOP/s and its roofline ratio
 * over the same backend's matmul GFLOP/s measured in the same run (an (N, C)·(F, C)ᵀ bf16 matmul of the shape with
 * the forward stage's rows, N = max(64, T): the forward's own matmul, so its ratio says what the rest of the forward
 * costs; the fastest of 7 batches: a median on a shared machine made the roof itself swing 1.5× from run to run),
 * the process CPU time of the stage (every thread; on a machine shared with other work, CPU time shows the cost of
 * a stage when wall time mostly shows the queue) and the same roofline ratio in CPU time (GFLOP per CPU-second of
 * the stage over that of the matmul: how much of the kernel's efficiency the stage keeps, whatever share of the
 * cores the machine gave it), and peak memory: the process RSS, and for wasm its linear memory (a fresh backend per
 * stage).
 *
 * Reduced cells (said in each row's note): a software WebGPU adapter and the float64 ref cannot run the 0.6B shape
 * in useful time (and WebGPU's 128 MiB binding limit cannot hold its 311 MB embedding), so they run fewer layers,
 * tokens and vocabulary there; training at the 0.6B shape keeps 2 layers (grads, moments and masters of 28 layers
 * do not fit wasm32's 4 GiB). `--quick` (the test suite) runs every stage on tiny token counts, the 0.6B widths with
 * one layer and a small vocabulary (no training cell on ref): fields and shapes only, no timing claims.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import type { ComputeBackend } from '../core/compute/backend.ts';
import { parseQwen3Config, qwen3ConfigJson, type Qwen3Config } from '../core/model/config.ts';
import type { HostTensor as CheckpointTensor } from '../core/model/checkpoint.ts';
import { randomQwen3Weights, Qwen3Model } from '../core/model/index.ts';
import { disposeQwen3Weights, uploadQwen3Weights, type HostTensor } from '../core/model/weights.ts';
import { DEVNET, type Profile } from '../core/profile/index.ts';
import { createTrainer, disposeTrainer, trainStep } from '../core/training/trainer.ts';
import { proveGroup } from '../core/validator/prover.ts';
import { RefBackend } from '../kernels/ref/index.ts';
import type { WasmBackend } from '../kernels/wasm/index.ts';
import { createNodeWasmBackend, wasmThreads } from '../kernels/wasm/node.ts';
import { createNodeWebGPUBackend } from '../kernels/webgpu/node-device.ts';
import { measureBest } from './kernels.ts';
import {
  admit, benchWindow, HONEST_HOTKEY, honestGroup, loadTiny, marketPrompt, proverContext, proverGroup, type BenchGroup,
} from './proof/setup.ts';
import type { BenchNote } from './table.ts';
import { syntheticBatch } from './train.ts';

export const STAGE_BACKENDS = ['ref', 'wasm', 'webgpu'] as const;
/** Runs of the forward stage, each paired with its own roof (see `stage`). */
const FORWARD_RUNS = 3;

export const STAGES = ['forward', 'generate', 'verify', 'admission', 'train'] as const;
export type Stage = (typeof STAGES)[number];

/** Qwen3-0.6B (config.json of Qwen/Qwen3-0.6B). */
export const QWEN3_0_6B: Qwen3Config = {
  C: 1024, F: 3072, L: 28, NH: 16, NKV: 8, HD: 128, V: 151936, eps: 1e-6, ropeTheta: 1e6, tied: true, dtype: 'bfloat16', maxPositions: 40960,
};

export interface StageRow {
  shape: string;
  backend: string;
  stage: Stage;
  /** Tokens the stage processed (completion tokens for generate/verify, forward tokens, trained tokens). */
  tokens: number;
  ms: number;
  tokens_per_s: number;
  /** CPU time of the process during the stage, every thread (user + system), ms. */
  cpu_ms: number;
  /** Achieved GFLOP/s (model FLOPs of the stage / time); null for admission. */
  gflops: number | null;
  /** gflops over the backend's matmul GFLOP/s of this shape in this run. */
  roofline: number | null;
  /** GFLOP per CPU-second of the stage over the matmul's GFLOP per CPU-second (load-independent); null for admission. */
  roofline_cpu: number | null;
  peak_rss_bytes: number;
  /** wasm only: linear memory in use at the end of the stage (its high-water mark). */
  wasm_memory_bytes: number | null;
  /** The verdict of verify (null = accepted), the cell's reductions. */
  note: string;
}

export interface StagesReport {
  machine: string[];
  /** matmul GFLOP/s per backend and shape: the roofline. */
  matmul: { shape: string; backend: string; gflops: number; gflops_per_cpu_s: number; problem: string }[];
  rows: StageRow[];
  /**
   * verify tokens/s over generate tokens/s per backend and shape, and the FLOPs of generating the group over those
   * of verifying it: verify/generate = work_ratio × (verify's GFLOP/s ÷ generate's), so the work ratio times the
   * efficiency gap bounds what a faster verifier can reach.
   */
  ratios: { shape: string; backend: string; verify_over_generate: number; work_ratio: number | null }[];
  notes: BenchNote[];
}

export interface StagesOptions {
  quick?: boolean;
  backends?: readonly string[];
  /** wasm threads (default: what the Node hosts run, kernels/wasm/node.ts `wasmThreads`). */
  threads?: number;
  log?: (line: string) => void;
}

/** One shape on one backend: the model and the token counts of its stages. */
interface Cell {
  cfg: Qwen3Config;
  tensors: () => Map<string, HostTensor>;
  M: number;
  maxNew: number;
  forwardT: number;
  /** Layers of the training cell (0: no training cell), and the note. */
  trainLayers: number;
  trainSpread: number;
  note: string;
}

/** Forward FLOPs of one position at context length `ctx` (matmuls + attention), with the LM head or not. */
export function positionFlops(cfg: Qwen3Config, ctx: number, lmHead: boolean): number {
  const { C, F, L, NH, NKV, HD, V } = cfg;
  const layer = 2 * (C * (2 * NH * HD + 2 * NKV * HD) + 3 * C * F) + 4 * NH * HD * ctx;
  return L * layer + (lmHead ? 2 * C * V : 0);
}

const weightCache = new Map<string, Map<string, HostTensor>>();
function randomWeights(cfg: Qwen3Config): () => Map<string, HostTensor> {
  return () => {
    const key = JSON.stringify(cfg);
    let w = weightCache.get(key);
    if (!w) {
      weightCache.clear();
        weightCache.set(key, (w = randomQwen3Weights(cfg, 17, { bf16: true })));
    }
    return w;
  };
}

/** Host tensors as a checkpoint holds them (dtype from the array type), for createTrainer. */
function asCheckpoint(t: ReadonlyMap<string, HostTensor>): Map<string, CheckpointTensor> {
  return new Map([...t].map(([n, x]) => [n, { dtype: x.data instanceof Float32Array ? 'f32' : 'bf16', shape: x.shape, data: x.data }]));
}

async function cellsFor(backend: string, quick: boolean): Promise<Map<string, Cell>> {
  const tiny = await loadTiny();
  const out = new Map<string, Cell>();
  out.set('tiny', {
    cfg: tiny.cfg, tensors: () => tiny.tensors, M: quick ? 2 : DEVNET.sampling.rollouts, maxNew: quick ? 3 : DEVNET.environments.arith!.maxNewTokens,
    forwardT: quick ? 8 : 64, trainLayers: tiny.cfg.L, trainSpread: quick ? 2 : 24, note: '',
  });
  const big = (over: Partial<Qwen3Config>, rest: Omit<Cell, 'cfg' | 'tensors'>): Cell => {
    const cfg = { ...QWEN3_0_6B, ...over };
    return { cfg, tensors: randomWeights(cfg), ...rest };
  };
  if (quick) {
    const train = backend === 'ref' ? 0 : 1;
    out.set('qwen3-0.6b', big({ L: 1, V: 1024 }, {
      M: 2, maxNew: 2, forwardT: 4, trainLayers: train, trainSpread: 2, note: `quick: 1 layer, V 1024${train ? '' : ', no training cell'}`,
    }));
  } else if (backend === 'wasm') {
    out.set('qwen3-0.6b', big({}, { M: 8, maxNew: 16, forwardT: 128, trainLayers: 2, trainSpread: 8, note: '' }));
  } else if (backend === 'webgpu') {
    out.set('qwen3-0.6b', big({ L: 2, V: 16384 }, {
      M: 4, maxNew: 4, forwardT: 32, trainLayers: 1, trainSpread: 4, note: 'reduced for a software adapter and the 128 MiB binding limit: 2 layers, V 16384',
    }));
  } else {
    out.set('qwen3-0.6b', big({ L: 1, V: 16384 }, { M: 2, maxNew: 2, forwardT: 8, trainLayers: 0, trainSpread: 0, note: 'ref (float64 reference): 1 layer, V 16384, no training cell' }));
  }
  return out;
}

async function openBackend(name: string, threads: number): Promise<ComputeBackend> {
  if (name === 'ref') return new RefBackend();
  if (name === 'wasm') return createNodeWasmBackend({ threads });
  if (name === 'webgpu') return createNodeWebGPUBackend();
  throw new Error(`unknown backend ${name} (have ${STAGE_BACKENDS.join(', ')})`);
}

/** CPU time of the process (every thread) since `from` (a process.cpuUsage() reading), ms. */
function cpuMs(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
}

/** Samples the RSS while a stage runs (at its awaits), keeping the maximum. */
function rssSampler(): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  return { stop: () => (clearInterval(timer), Math.max(peak, process.memoryUsage.rss())) };
}

/** Runs the bench; see the module comment. A backend that cannot start, or a failing cell, becomes a note. */
export async function benchStages(o: StagesOptions = {}): Promise<StagesReport> {
  const quick = o.quick ?? false;
  const threads = o.threads ?? wasmThreads();
  const log = o.log ?? (() => {});
  const profile: Profile = DEVNET;
  const c0 = cpus()[0];
  const report: StagesReport = {
    machine: [
      `cpu: ${c0?.model.trim() ?? 'unknown'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; ` +
        `load average ${loadavg()[0]!.toFixed(2)} at start; wasm threads ${threads}; profile ${profile.id}`,
    ],
    matmul: [], rows: [], ratios: [], notes: [],
  };
  for (const backend of o.backends ?? STAGE_BACKENDS) {
    let cells: Map<string, Cell>;
    try {
      cells = await cellsFor(backend, quick);
      (await openBackend(backend, threads)).destroy();
    } catch (e) {
      report.notes.push({ bench: 'stages', shape: '*', backend, reason: `not available: ${(e as Error).message}` });
      continue;
    }
    for (const [shape, cell] of cells) {
      const fresh = () => openBackend(backend, threads);
      let roof = 0;
      let roofCpu = 0;
      /** The roofline: the backend's matmul on this shape (the forward's rows, at least 64; the MLP up-projection, bf16),
       * the fastest of `batches` batches, wall and CPU each: the roof is what the kernel does when the machine lets it. */
      const measureRoof = async (be: ComputeBackend, batches: number): Promise<{ roof: number; roofCpu: number; problem: string }> => {
        const { C, F } = cell.cfg;
        const N = quick ? 8 : Math.max(64, cell.forwardT);
        const x = be.upload(new Float32Array(N * C).fill(0.5), [N, C]);
        const w = be.upload(new Uint16Array(F * C).fill(0x3c00), [F, C]);
        const y = be.empty([N, F]);
        try {
          const { ms, cpu } = await measureBest(() => be.matmulForward(y, x, w, 1, N, C, F), () => be.sync(),
            { minTimeMs: quick ? 5 : 300, repeats: quick ? 1 : batches, warmup: 1 });
          return { roof: (2 * N * C * F) / (ms * 1e6), roofCpu: (2 * N * C * F) / (Math.max(cpu, 1e-6) * 1e6), problem: `${N}x${C}x${F} bf16` };
        } finally {
          for (const t of [x, w, y]) be.dispose(t);
        }
      };
      await guarded(report, backend, shape, 'matmul', async () => {
        const be = await fresh();
        try {
          const r = await measureRoof(be, 7);
          ({ roof, roofCpu } = r);
          report.matmul.push({ shape, backend, gflops: roof, gflops_per_cpu_s: roofCpu, problem: r.problem });
          log(`${shape} ${backend} matmul ${roof.toFixed(2)} GFLOP/s`);
        } finally {
          be.destroy();
        }
      });
      const add = (stage: Stage, tokens: number, ms: number, cpu: number, flops: number | null, peak: number, be: ComputeBackend, note: string,
        own?: { roof: number; roofCpu: number }): void => {
        const gflops = flops === null ? null : flops / (ms * 1e6);
        const [r, rc] = own ? [own.roof, own.roofCpu] : [roof, roofCpu];
        const row: StageRow = {
          shape, backend, stage, tokens, ms, tokens_per_s: tokens / (ms / 1000), cpu_ms: cpu, gflops,
          roofline: gflops === null || r === 0 ? null : gflops / r,
          roofline_cpu: flops === null || rc === 0 ? null : flops / (Math.max(cpu, 1e-3) * 1e6) / rc, peak_rss_bytes: peak,
          wasm_memory_bytes: be.name === 'wasm' ? (be as WasmBackend).memoryBytes : null, note: [cell.note, note].filter(Boolean).join('; '),
        };
        report.rows.push(row);
        log(`${shape} ${backend} ${stage}: ${tokens} tokens in ${ms.toFixed(1)} ms${gflops === null ? '' : `, ${gflops.toFixed(2)} GFLOP/s`}`);
      };
      /**
       * Runs one stage on a fresh backend holding the shape's weights; `run` returns [tokens, flops, note]. With
       * `paired` > 1 the stage runs that many times, each run right after a roof measured on the same backend (the
       * fastest of 3 batches), and the row is the run of median ratio to its own roof: on a shared machine the
       * speed of both swings from minute to minute, and a ratio of two moments measures the machine, not the stage.
       */
      const stage = (name: Stage, run: (model: Qwen3Model) => Promise<[number, number | null, string]>, paired = 1) =>
        guarded(report, backend, shape, name, async () => {
          const be = await fresh();
          const w = uploadQwen3Weights(be, cell.cfg, cell.tensors());
          try {
            const model = new Qwen3Model(be, cell.cfg, w);
            await model.forward(new Int32Array(4).fill(2), 1, 4, { returnHidden: false }); // warm-up (pipelines, pages)
            const rss = rssSampler();
            const runs: { ms: number; cpu: number; out: [number, number | null, string]; own?: { roof: number; roofCpu: number }; ratio: number }[] = [];
            for (let i = 0; i < paired; i++) {
              const own = paired > 1 ? await measureRoof(be, 3) : undefined;
              const c0 = process.cpuUsage();
              const t0 = performance.now();
              const out = await run(model);
              await be.sync();
              const ms = performance.now() - t0;
              const ratio = own && out[1] !== null ? out[1] / (ms * 1e6) / own.roof : 0;
              runs.push({ ms, cpu: cpuMs(c0), out, ...(own ? { own } : {}), ratio });
            }
            const pick = [...runs].sort((a, b) => a.ratio - b.ratio)[Math.floor(runs.length / 2)]!;
            const [tokens, flops, note] = pick.out;
            const pairedNote = paired > 1
              ? `median of ${paired} runs, each against its own roof (${runs.map((x) => `${(100 * x.ratio).toFixed(0)}%`).join(', ')}; roofs ${runs.map((x) => x.own!.roof.toFixed(1)).join(', ')} GFLOP/s)`
              : '';
            add(name, tokens, pick.ms, pick.cpu, flops, rss.stop(), be, [note, pairedNote].filter(Boolean).join('; '), pick.own);
          } finally {
            disposeQwen3Weights(be, w);
            be.destroy();
          }
        });

      const { cfg } = cell;
      const T = cell.forwardT;
      await stage('forward', async (model) => {
        const tokens = Int32Array.from({ length: T }, (_, i) => 2 + ((i * 7) % (cfg.V - 2)));
        await model.forward(tokens, 1, T, { targets: tokens, returnHidden: false });
        let flops = 0;
        for (let t = 0; t < T; t++) flops += positionFlops(cfg, t + 1, true);
        return [T, flops, ''];
      }, quick ? 1 : FORWARD_RUNS);

      const promptIdx = marketPrompt(0);
      const w = benchWindow('stages', 0);
      const gp: Profile = { ...profile, sampling: { ...profile.sampling, rollouts: cell.M } };
      const gprofile: Profile = { ...gp, environments: { ...gp.environments, arith: { ...gp.environments.arith!, maxNewTokens: cell.maxNew } } };
      let group: BenchGroup | undefined;
      await stage('generate', async (model) => {
        group = await honestGroup(model, promptIdx, HONEST_HOTKEY, w, gprofile, { rollouts: cell.M });
        return [completionTokens(group), groupFlops(cfg, group, 'generate'), ''];
      });
      if (group) {
        const g = group;
        await stage('verify', async (model) => {
          const verdict = await proveGroup(proverGroup(g), proverContext(model, gprofile, w));
          return [completionTokens(g), groupFlops(cfg, g, 'verify'), verdict ? `verdict ${verdict.reason}` : 'accepted'];
        });
        await guarded(report, backend, shape, 'admission', async () => {
          const reps = quick ? 2 : 20;
          const rss = rssSampler();
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          let verdict: string | null = null;
          for (let i = 0; i < reps; i++) verdict = admit(g, gprofile)?.reason ?? null;
          const ms = (performance.now() - t0) / reps;
          const none = { name: 'none' } as ComputeBackend;
          add('admission', completionTokens(g), ms, cpuMs(c0) / reps, null, rss.stop(), none,
            `ms per group, mean of ${reps}; prompt binding + reward recomputation (no signatures, no parse); ${verdict ?? 'admitted'}`);
        });
      }
      if (cell.trainLayers > 0) {
        await guarded(report, backend, shape, 'train', async () => {
          const tcfg = parseQwen3Config(qwen3ConfigJson({ ...cfg, L: cell.trainLayers }));
          const host = cell.trainLayers === cfg.L ? cell.tensors() : randomQwen3Weights(tcfg, 19, { bf16: true });
          const be = await fresh();
          const trainer = createTrainer(be, { config: qwen3ConfigJson(tcfg), tensors: asCheckpoint(host) }, profile);
          try {
            const batch = syntheticBatch(tcfg.V, 1, cell.trainSpread);
            await trainStep(trainer, batch); // warm-up
            const rss = rssSampler();
            const c0 = process.cpuUsage();
            const t0 = performance.now();
            const rec = await trainStep(trainer, batch);
            await be.sync();
            const ms = performance.now() - t0;
            const cpu = cpuMs(c0);
            let flops = 0;
            for (const r of batch[0]!.groups[0]!) for (let t = 0; t < r.tokens.length; t++) flops += 3 * positionFlops(tcfg, t + 1, t >= r.promptLen - 1);
            add('train', rec.tokens, ms, cpu, flops, rss.stop(), be,
              `${rec.tokens} trained tokens of 16 rollouts${cell.trainLayers !== cfg.L ? `; ${cell.trainLayers} layers (memory)` : ''}; FLOPs = 3× forward`);
          } finally {
            disposeTrainer(trainer);
            be.destroy();
          }
        });
      } else {
        report.notes.push({ bench: 'stages', shape, backend, reason: 'train: no training cell here (see the note of the shape)' });
      }
      const gen = report.rows.find((r) => r.shape === shape && r.backend === backend && r.stage === 'generate');
      const ver = report.rows.find((r) => r.shape === shape && r.backend === backend && r.stage === 'verify');
      if (gen && ver) {
        const work = gen.gflops !== null && ver.gflops !== null ? (gen.gflops * gen.ms) / (ver.gflops * ver.ms) : null;
        report.ratios.push({ shape, backend, verify_over_generate: ver.tokens_per_s / gen.tokens_per_s, work_ratio: work });
      }
    }
  }
  return report;
}

async function guarded(report: StagesReport, backend: string, shape: string, stage: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    report.notes.push({ bench: 'stages', shape, backend, reason: `${stage} failed: ${e instanceof Error ? e.message : String(e)}` });
  }
}

function completionTokens(g: BenchGroup): number {
  return g.rollouts.reduce((s, r) => s + r.tokens.length - r.promptLength, 0);
}

/**
 * Model FLOPs of a group: generation runs the prompt once per rollout (P − 1 positions, no LM head), one position per
 * completion token with the full-vocabulary head, and the commitments' teacher-forced forward over every position (no
 * head); verification runs every position of every rollout with the head on the completion positions.
 */
function groupFlops(cfg: Qwen3Config, g: BenchGroup, stage: 'generate' | 'verify'): number {
  let flops = 0;
  for (const r of g.rollouts) {
    const P = r.promptLength;
    for (let t = 0; t < r.tokens.length; t++) {
      if (stage === 'generate') {
        // the commitments' teacher-forced forward (sketchesOf: every position, no LM head), then the prefill and
        // decode (the last token is sampled, never fed)
        flops += positionFlops(cfg, t + 1, false);
        if (t === r.tokens.length - 1) continue;
      }
      flops += positionFlops(cfg, t + 1, t >= P - 1);
    }
  }
  return flops;
}
