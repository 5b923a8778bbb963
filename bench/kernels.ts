/**
 * The kernel bench behind `reliquary bench kernels`: our backends (ref, wasm, webgpu) and the peer libraries
 * (bench/peers.ts) on the same shapes in one process, one row `{bench, backend, shape, value, unit}` per cell.
 *
 * Benches (legend as core/compute/backend.ts: T = positions, C = channels, OC = output channels, NH/NKV = query/KV
 * heads, HD = head dim, S = KV-cache length, V = vocabulary):
 *   matmul      out (T,OC) = inp (T,C) · Wᵀ, W (OC,C) f32 or bf16 — GFLOP/s = 2·T·C·OC / time. Square N³ problems
 *               and the MLP up-projection T×C·C×F of the tiny and the Qwen3-4B configs. Peers run the f32 rows.
 *   attention   prefill: causal GQA over T new positions (GFLOP/s, 4·HD per query-key pair); decode: one position
 *               against an S-long cache (µs per call).
 *   rmsnorm     over (T,C) — GB/s of activations read + written; rope over (T,NH,HD) — same.
 *   lm-head     chunked LM head + logsumexp + gather over (T,C)·(V,C)ᵀ, bf16 wte — tokens/s.
 *   sketch      the GRAIL sketch of T positions of width C, where the backend has `sketchForward` — positions/s.
 *   model       a full forward of a tiny Qwen3 (core/model, seeded random bf16 weights): T tokens → hidden states →
 *               log-probs of T targets (`Qwen3Model.forward`, hidden states not downloaded) — tokens/s.
 *
 * Method: `warmup` calls, one timed call to size the batch (n calls ≥ minTimeMs), then `repeats` timed batches;
 * the value is the median batch's time per call. Each row also carries `value_cpu`, the same figure from the process
 * CPU time of the median-CPU batch (every thread): on a machine shared with other work, wall time mostly measures
 * the queue, CPU time the work (a 2-thread row's value_cpu near the 1-thread row's means the threads added no work;
 * what they cannot show is the speedup, which needs idle cores). WebGPU calls are recorded and `await backend.sync()` ends each batch
 * inside the timed region. A cell over a backend's budget (ref: slow by design; a software GPU adapter on the largest
 * problems) or over a device limit is left out and listed with the reason.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import type { ComputeBackend, Tensor } from '../core/compute/backend.ts';
import { f32ToBf16 } from '../core/compute/bf16.ts';
import {
  disposeQwen3Weights, Qwen3Model, randomQwen3Weights, uploadQwen3Weights, type Qwen3Config,
} from '../core/model/index.ts';
import { V4 } from '../core/profile/index.ts';
import type { GrailProfile } from '../core/protocol/sketch.ts';
import { RefBackend } from '../kernels/ref/index.ts';
import { createNodeWasmBackend } from '../kernels/wasm/node.ts';
import { createNodeWebGPUBackend } from '../kernels/webgpu/node-device.ts';
import { loadPeers, type Peer } from './peers.ts';
import type { BenchNote, BenchRow } from './table.ts';

/** `full` (the default run), `quick` (`--quick`, smaller shapes), `tiny` (tests: a correctness smoke run). */
export type BenchSize = 'full' | 'quick' | 'tiny';

export interface Timing {
  /** Each timed batch runs at least this long (the batch size is fitted from one call). */
  minTimeMs: number;
  /** Timed batches; the median is reported. */
  repeats: number;
  /** Untimed calls first (pipeline compilation, page faults). */
  warmup: number;
  /** A fixed batch size instead of fitting it to minTimeMs. */
  iterations?: number;
}

export interface BenchOptions {
  size?: BenchSize;
  /** Our backends to run (default all three). */
  backends?: readonly string[];
  /** Thread counts of the wasm backend, one column each (default [1]): 1 is `wasm`, n > 1 is `wasm-<n>t`. */
  threads?: readonly number[];
  /** Time the peer libraries too (default true). */
  peers?: boolean;
  timing?: Partial<Timing>;
  /** Progress lines (one per cell) as they are measured. */
  log?: (line: string) => void;
}

export interface BenchReport {
  /** Machine, adapter and peer versions, one line each. */
  machine: string[];
  rows: BenchRow[];
  notes: BenchNote[];
  /** Names of the peer backends present in `rows`. */
  peers: string[];
}

export const BACKENDS = ['ref', 'wasm', 'webgpu'] as const;

/** Qwen3-4B (spec/training.md §2): hidden 2560, MLP 9728, 32 query / 8 KV heads of 128, vocabulary 151936. */
const QWEN3_4B = { C: 2560, F: 9728, NH: 32, NKV: 8, HD: 128, V: 151936, theta: 1_000_000 } as const;

interface MatmulShape {
  label: string;
  T: number;
  C: number;
  OC: number;
}

interface Plan {
  /** N of the square N³ matmuls (f32 weights). */
  square: number[];
  /** Transformer-shaped matmuls, run with f32 and with bf16 weights. */
  mlp: MatmulShape[];
  attention: { T: number; NH: number; NKV: number; HD: number; S: number };
  norm: { T: number; C: number; NH: number; HD: number };
  lmHead: { T: number; C: number; V: number };
  sketch: { T: number; C: number };
  /** A tiny Qwen3 and the positions of one forward. */
  model: { cfg: Qwen3Config; T: number };
}

/** The bench's tiny Qwen3: C = 256 and F = 4C as the tiny matmul, 4 layers, a small vocabulary. */
const TINY_MODEL: Qwen3Config = {
  C: 256, F: 1024, L: 4, NH: 8, NKV: 4, HD: 32, V: 8192, eps: 1e-6, ropeTheta: 1e6, tied: false, dtype: 'bfloat16', maxPositions: 4096,
};

const PLANS: Record<BenchSize, Plan> = {
  full: {
    square: [512, 1024, 2048],
    mlp: [
      { label: 'tiny', T: 64, C: 256, OC: 1024 },
      { label: 'qwen3-4b', T: 128, C: QWEN3_4B.C, OC: QWEN3_4B.F },
    ],
    attention: { T: 128, NH: QWEN3_4B.NH, NKV: QWEN3_4B.NKV, HD: QWEN3_4B.HD, S: 1024 },
    norm: { T: 128, C: QWEN3_4B.C, NH: QWEN3_4B.NH, HD: QWEN3_4B.HD },
    lmHead: { T: 8, C: QWEN3_4B.C, V: QWEN3_4B.V },
    sketch: { T: 128, C: QWEN3_4B.C },
    model: { cfg: TINY_MODEL, T: 64 },
  },
  quick: {
    square: [256, 512],
    mlp: [
      { label: 'tiny', T: 64, C: 256, OC: 1024 },
      { label: 'qwen3-4b', T: 16, C: QWEN3_4B.C, OC: QWEN3_4B.F },
    ],
    attention: { T: 32, NH: QWEN3_4B.NH, NKV: QWEN3_4B.NKV, HD: QWEN3_4B.HD, S: 256 },
    norm: { T: 128, C: QWEN3_4B.C, NH: QWEN3_4B.NH, HD: QWEN3_4B.HD },
    lmHead: { T: 8, C: QWEN3_4B.C, V: 16384 },
    sketch: { T: 32, C: QWEN3_4B.C },
    model: { cfg: TINY_MODEL, T: 64 },
  },
  tiny: {
    square: [64],
    mlp: [{ label: 'tiny', T: 8, C: 64, OC: 128 }],
    attention: { T: 8, NH: 4, NKV: 2, HD: 16, S: 32 },
    norm: { T: 8, C: 64, NH: 4, HD: 16 },
    lmHead: { T: 2, C: 64, V: 512 },
    sketch: { T: 8, C: 64 },
    model: { cfg: { ...TINY_MODEL, C: 64, F: 128, L: 2, NH: 4, NKV: 2, HD: 16, V: 97 }, T: 8 },
  },
};

const TIMINGS: Record<BenchSize, Timing> = {
  full: { minTimeMs: 300, repeats: 5, warmup: 1 },
  quick: { minTimeMs: 100, repeats: 3, warmup: 1 },
  tiny: { minTimeMs: 0, repeats: 1, warmup: 0, iterations: 1 },
};

/** Largest problem (FLOPs per call) the ref backend runs outside `tiny`: float64 loops in JS, ~1 GFLOP/s at best. */
const REF_MAX_FLOPS = 1.5e8;
/** Largest matmul-like problem a software adapter (lavapipe, SwiftShader) runs: 2048³ would take ~7 s a call. */
const SOFTWARE_GPU_MAX_FLOPS = 8e9;

/** One of our backends with its budget. */
interface Subject {
  name: string;
  be: ComputeBackend;
  /** Cells above this many FLOPs per call are left out (`why` says so). */
  maxFlops: number;
  why: string;
  /** Largest tensor the backend can bind, in bytes. */
  maxTensorBytes: number;
}

// ---- data --------------------------------------------------------------------------------------------------------

/** Uniform values in [−scale, scale) from xorshift32 (deterministic; the values only matter for not being special). */
function rand(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32 * 2 - 1) * scale;
  }
  return out;
}

/** n bf16 weights: a 64 Ki-value random block tiled (fast for the 389 M values of a 4B LM head). */
function randBf16(n: number, seed: number, scale: number): Uint16Array {
  const block = f32ToBf16(rand(Math.min(n, 1 << 16), seed, scale));
  const out = new Uint16Array(n);
  for (let o = 0; o < n; o += block.length) out.set(block.subarray(0, Math.min(block.length, n - o)), o);
  return out;
}

function randInts(n: number, seed: number, lo: number, hi: number): Int32Array {
  return Int32Array.from(rand(n, seed), (x) => lo + Math.min(hi - lo - 1, Math.floor((x + 1) / 2 * (hi - lo))));
}

// ---- timing ------------------------------------------------------------------------------------------------------

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One backend's call on one cell, set up and ready to time; `free` releases what the setup allocated. */
interface Entry {
  backend: string;
  call: () => unknown;
  sync: () => Promise<void>;
  free: () => void;
}

type Timed = Pick<Entry, 'call' | 'sync'>;

/** n calls then `sync`, all inside the timed region: milliseconds per call, wall and CPU (every thread). */
async function batchCpu(e: Timed, n: number): Promise<{ ms: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const r = e.call();
    if (r instanceof Promise) await r;
  }
  await e.sync();
  const ms = (performance.now() - t0) / n;
  const d = process.cpuUsage(c0);
  return { ms, cpu: (d.user + d.system) / 1000 / n };
}

/** n calls then `sync`, all inside the timed region: milliseconds per call. */
async function batch(e: Timed, n: number): Promise<number> {
  return (await batchCpu(e, n)).ms;
}

/** Warms up, then sizes a batch to last ≥ minTimeMs from one timed call (itself a sample when it is that long). */
async function calibrate(e: Timed, t: Timing): Promise<{ n: number; samples: number[] }> {
  if (t.warmup > 0) await batch(e, t.warmup);
  if (t.iterations) return { n: t.iterations, samples: [] };
  const one = await batch(e, 1);
  const n = Math.max(1, Math.min(100_000, Math.ceil(t.minTimeMs / Math.max(one, 1e-3))));
  return { n, samples: n === 1 ? [one] : [] };
}

/**
 * The fastest of `repeats` timed batches, in wall and in CPU milliseconds per call (each minimum taken separately):
 * for a roofline, what the kernel does when the machine lets it, not a typical slice of a shared machine.
 */
export async function measureBest(call: () => unknown, sync: () => Promise<void>, t: Timing): Promise<{ ms: number; cpu: number }> {
  const e = { call, sync };
  const { n } = await calibrate(e, t);
  let ms = Infinity, cpu = Infinity;
  for (let r = 0; r < Math.max(1, t.repeats); r++) {
    const b = await batchCpu(e, n);
    ms = Math.min(ms, b.ms);
    cpu = Math.min(cpu, b.cpu);
  }
  return { ms, cpu };
}

/** Milliseconds per call of `call`: the median of `repeats` timed batches, `sync` ending each inside the timing. */
export async function measure(call: () => unknown, sync: () => Promise<void>, t: Timing): Promise<number> {
  const e = { call, sync };
  const { n, samples } = await calibrate(e, t);
  while (samples.length < Math.max(1, t.repeats)) samples.push(await batch(e, n));
  return median(samples);
}

// ---- the bench ---------------------------------------------------------------------------------------------------

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

class Bench {
  readonly rows: BenchRow[] = [];
  readonly notes: BenchNote[] = [];

  constructor(
    readonly timing: Timing,
    private readonly log: (line: string) => void,
  ) {}

  note(bench: string, shape: string, backend: string, reason: string): void {
    this.notes.push({ bench, shape, backend, reason });
    this.log(`${bench} ${shape} ${backend}: left out (${reason})`);
  }

  row(bench: string, shape: string, backend: string, value: number, unit: string, valueCpu?: number): void {
    this.rows.push({ bench, backend, shape, value, unit, ...(valueCpu !== undefined ? { value_cpu: valueCpu } : {}) });
    this.log(`${bench} ${shape} ${backend}: ${value.toPrecision(4)} ${unit}`);
  }

  /**
   * One of our backends on a cell: `setup` allocates its tensors (registering each with `keep`) and returns the call,
   * or a reason to leave the cell out. Over-budget cells and setup errors become notes (undefined).
   */
  ours(
    s: Subject, bench: string, shape: string, flops: number,
    setup: (be: ComputeBackend, keep: (t: Tensor | (() => void)) => void) => (() => unknown) | string,
  ): Entry | undefined {
    if (flops > s.maxFlops) return void this.note(bench, shape, s.name, s.why);
    const held: (() => void)[] = [];
    const free = (): void => {
      for (const f of held.reverse()) f();
    };
    try {
      const call = setup(s.be, (t) => held.push(typeof t === 'function' ? t : () => s.be.dispose(t)));
      if (typeof call === 'string') {
        free();
        return void this.note(bench, shape, s.name, call);
      }
      return { backend: s.name, call, sync: () => s.be.sync(), free };
    } catch (e) {
      free();
      return void this.note(bench, shape, s.name, `failed: ${message(e)}`);
    }
  }

  /** A peer on a matmul cell (f32 weights, its own fastest layout). */
  async peer(p: Peer, bench: string, shape: string, m: MatmulShape): Promise<Entry | undefined> {
    try {
      const mm = await p.matmul(rand(m.T * m.C, 11), rand(m.C * m.OC, 12, 0.05), m.T, m.C, m.OC);
      return { backend: p.name, call: () => mm.run(), sync: async () => {}, free: () => mm.dispose() };
    } catch (e) {
      return void this.note(bench, shape, p.name, `failed: ${message(e)}`);
    }
  }

  /**
   * Times every entry of one cell and adds a row each (`toValue` of the median ms per call). The batches run
   * round-robin — batch r of every backend before batch r+1 of any — so load from elsewhere on the machine falls on
   * all of them alike and the ratios stay fair.
   */
  async compare(bench: string, shape: string, unit: string, toValue: (ms: number) => number, entries: readonly (Entry | undefined)[]): Promise<void> {
    const live: (Entry & { n: number; samples: number[]; cpu: number[] })[] = [];
    const fail = (e: Entry, err: unknown): void => {
      this.note(bench, shape, e.backend, `failed: ${message(err)}`);
      live.splice(live.findIndex((x) => x.backend === e.backend), 1);
    };
    try {
      for (const e of entries) {
        if (!e) continue;
        live.push({ ...e, n: 0, samples: [], cpu: [] });
        try {
          Object.assign(live[live.length - 1]!, await calibrate(e, this.timing));
        } catch (err) {
          fail(e, err);
        }
      }
      for (let r = 0; r < Math.max(1, this.timing.repeats); r++) {
        for (const e of [...live]) {
          if (e.samples.length > r) continue;
          try {
            const b = await batchCpu(e, e.n);
            e.samples.push(b.ms);
            e.cpu.push(b.cpu);
          } catch (err) {
            fail(e, err);
          }
        }
      }
      for (const e of live) {
        // a calibration call long enough to be the sample has no CPU reading: time it again
        if (e.cpu.length === 0) e.cpu.push((await batchCpu(e, e.n)).cpu);
        this.row(bench, shape, e.backend, toValue(median(e.samples)), unit, toValue(Math.max(median(e.cpu), 1e-6)));
      }
    } finally {
      for (const e of entries) e?.free();
    }
  }
}

/** An optional op, detected at run time: backends gain `sketchForward` as it lands. */
type SketchOp = (hidden: Tensor<'f32'>, r: ArrayLike<number>, B: number, T: number, C: number, grail: GrailProfile) => Promise<Int32Array>;

/** The bench column of the wasm backend on `n` threads. */
export function wasmColumn(n: number): string {
  return n === 1 ? 'wasm' : `wasm-${n}t`;
}

async function subjects(
  names: readonly string[], size: BenchSize, machine: string[], skipped: BenchNote[], threads: readonly number[] = [1],
): Promise<Subject[]> {
  const out: Subject[] = [];
  const unlimited = { maxFlops: Infinity, why: '', maxTensorBytes: 4 * 2 ** 30 };
  for (const name of names) {
    try {
      if (name === 'ref') {
        out.push({
          name, be: new RefBackend(), ...unlimited,
          maxFlops: size === 'tiny' ? Infinity : REF_MAX_FLOPS,
          why: `ref is the float64 reference, skipped above ${REF_MAX_FLOPS / 1e6} MFLOP per call`,
        });
      } else if (name === 'wasm') {
        for (const n of threads) {
          try {
            out.push({ name: wasmColumn(n), be: await createNodeWasmBackend({ threads: n }), ...unlimited });
          } catch (e) {
            skipped.push({ bench: '*', shape: '*', backend: wasmColumn(n), reason: `not available: ${e instanceof Error ? e.message : String(e)}` });
          }
        }
      } else if (name === 'webgpu') {
        const be = await createNodeWebGPUBackend();
        const lim = be.info.device.limits;
        const software = /llvmpipe|lavapipe|swiftshader|software/i.test(be.info.adapter);
        machine.push(
          `webgpu: ${be.info.adapter}; features: ${[be.info.features.shaderF16 && 'shader-f16', be.info.features.subgroups && 'subgroups'].filter(Boolean).join(', ') || 'none'}; ` +
            `maxStorageBufferBindingSize ${(lim.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB`,
        );
        out.push({
          name, be,
          maxFlops: software && size !== 'tiny' ? SOFTWARE_GPU_MAX_FLOPS : Infinity,
          why: `software adapter, skipped above ${SOFTWARE_GPU_MAX_FLOPS / 1e9} GFLOP per call`,
          maxTensorBytes: lim.maxStorageBufferBindingSize,
        });
      } else {
        throw new Error(`unknown backend (have ${BACKENDS.join(', ')})`);
      }
    } catch (e) {
      skipped.push({ bench: '*', shape: '*', backend: name, reason: `not available: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
  return out;
}

/** Runs the bench and returns its rows; see the module comment for what is measured. */
export async function benchKernels(options: BenchOptions = {}): Promise<BenchReport> {
  const size = options.size ?? 'full';
  const plan = PLANS[size];
  const b = new Bench({ ...TIMINGS[size], ...options.timing }, options.log ?? (() => {}));
  const c0 = cpus()[0];
  const machine = [
    `cpu: ${c0?.model.trim() ?? 'unknown'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; ` +
      `load average ${loadavg()[0]!.toFixed(2)} at start (other work on the machine skews every figure)`,
  ];
  const subs = await subjects(options.backends ?? BACKENDS, size, machine, b.notes, options.threads);
  const loaded = options.peers === false ? { peers: [], skipped: [] } : await loadPeers();
  const peers = loaded.peers;
  for (const p of peers) machine.push(`peer ${p.name}: ${p.version}`);
  for (const { name, reason } of loaded.skipped) b.notes.push({ bench: 'matmul', shape: '*', backend: name, reason });

  try {
    const ours = (bench: string, shape: string, flops: number, setup: Parameters<Bench['ours']>[4]): (Entry | undefined)[] =>
      subs.map((s) => b.ours(s, bench, shape, flops, setup));

    // matmul: square, then transformer-shaped with f32 and bf16 weights; the peers on the f32 rows.
    const mms: [MatmulShape, 'f32' | 'bf16', string][] = [
      ...plan.square.map((n): [MatmulShape, 'f32', string] => [{ label: `${n}^3`, T: n, C: n, OC: n }, 'f32', `${n}^3 f32`]),
      ...plan.mlp.flatMap((m) =>
        (['f32', 'bf16'] as const).map((d): [MatmulShape, 'f32' | 'bf16', string] => [m, d, `${m.label} ${m.T}x${m.C}x${m.OC} ${d}`])),
    ];
    for (const [m, dtype, shape] of mms) {
      const flops = 2 * m.T * m.C * m.OC;
      const entries = ours('matmul', shape, flops, (be, keep) => {
        const w = rand(m.OC * m.C, 2, 0.05);
        const inp = be.upload(rand(m.T * m.C, 1), [m.T, m.C]);
        keep(inp);
        const wt = dtype === 'f32' ? be.upload(w, [m.OC, m.C]) : be.upload(f32ToBf16(w), [m.OC, m.C]);
        keep(wt);
        const out = be.empty([m.T, m.OC]);
        keep(out);
        return () => be.matmulForward(out, inp, wt, 1, m.T, m.C, m.OC);
      });
      for (const p of peers) {
        if (dtype === 'f32') entries.push(await b.peer(p, 'matmul', shape, m));
        else b.note('matmul', shape, p.name, 'no bf16-weight MatMul in the peer; compare with the f32 row');
      }
      await b.compare('matmul', shape, 'GFLOP/s', (ms) => flops / ms / 1e6, entries);
    }

    // attention: prefill (GFLOP/s) and decode against an S-long cache (µs).
    const { T, NH, NKV, HD, S } = plan.attention;
    const prefill = `prefill T=${T} NH=${NH} NKV=${NKV} HD=${HD}`;
    const prefillFlops = 4 * HD * NH * ((T * (T + 1)) / 2);
    await b.compare('attention', prefill, 'GFLOP/s', (ms) => prefillFlops / ms / 1e6, ours('attention', prefill, prefillFlops, (be, keep) => {
      const q = be.upload(rand(T * NH * HD, 3), [T, NH, HD]);
      const k = be.upload(rand(T * NKV * HD, 4), [T, NKV, HD]);
      const v = be.upload(rand(T * NKV * HD, 5), [T, NKV, HD]);
      const out = be.empty([T, NH, HD]);
      [q, k, v, out].forEach(keep);
      return () => be.attentionForward(out, q, k, v, 1, T, NH, NKV, HD, 0, T);
    }));
    const decode = `decode S=${S} NH=${NH} NKV=${NKV} HD=${HD}`;
    await b.compare('attention', decode, 'µs', (ms) => ms * 1000, ours('attention', decode, 4 * HD * NH * S, (be, keep) => {
      const q = be.upload(rand(NH * HD, 3), [1, NH, HD]);
      const k = be.upload(rand(S * NKV * HD, 4), [S, NKV, HD]);
      const v = be.upload(rand(S * NKV * HD, 5), [S, NKV, HD]);
      const out = be.empty([1, NH, HD]);
      [q, k, v, out].forEach(keep);
      return () => be.attentionForward(out, q, k, v, 1, 1, NH, NKV, HD, S - 1, S);
    }));

    // rmsnorm over (T,C) and rope over (T,NH,HD): memory-bound, GB/s of activations read and written.
    const n = plan.norm;
    const normShape = `T=${n.T} C=${n.C}`;
    const normBytes = (2 * n.T * n.C + n.C) * 4;
    await b.compare('rmsnorm', normShape, 'GB/s', (ms) => normBytes / ms / 1e6, ours('rmsnorm', normShape, 4 * n.T * n.C, (be, keep) => {
      const inp = be.upload(rand(n.T * n.C, 6), [n.T, n.C]);
      const w = be.upload(rand(n.C, 7), [n.C]);
      const out = be.empty([n.T, n.C]);
      [inp, w, out].forEach(keep);
      return () => be.rmsnormForward(out, inp, w, 1, n.T, n.C, 1e-6);
    }));
    const ropeShape = `T=${n.T} NH=${n.NH} HD=${n.HD}`;
    const ropeBytes = 2 * n.T * n.NH * n.HD * 4;
    await b.compare('rope', ropeShape, 'GB/s', (ms) => ropeBytes / ms / 1e6, ours('rope', ropeShape, 6 * n.T * n.NH * n.HD, (be, keep) => {
      const inp = be.upload(rand(n.T * n.NH * n.HD, 8), [n.T, n.NH, n.HD]);
      const out = be.empty([n.T, n.NH, n.HD]);
      [inp, out].forEach(keep);
      return () => be.ropeForward(out, inp, 1, n.T, n.NH, n.HD, 0, QWEN3_4B.theta);
    }));

    // chunked LM head, bf16 wte; a smaller vocabulary where the (V,C) table is over the device's binding limit.
    const lm = plan.lmHead;
    for (const s of subs) {
      let V = lm.V;
      while (V * lm.C * 2 > s.maxTensorBytes && V > 1024) V = V > 65536 ? 65536 : V / 2;
      if (V !== lm.V) {
        b.note('lm-head', `T=${lm.T} C=${lm.C} V=${lm.V} bf16`, s.name,
          `the (V,C) bf16 table is over the ${(s.maxTensorBytes / 2 ** 20).toFixed(0)} MiB binding limit; measured at V=${V}`);
      }
      const shape = `T=${lm.T} C=${lm.C} V=${V} bf16`;
      await b.compare('lm-head', shape, 'tok/s', (ms) => lm.T / (ms / 1000), [b.ours(s, 'lm-head', shape, 2 * lm.T * lm.C * V, (be, keep) => {
        const inp = be.upload(rand(lm.T * lm.C, 9), [lm.T, lm.C]);
        keep(inp);
        const wte = be.upload(randBf16(V * lm.C, 10, 0.05), [V, lm.C]);
        keep(wte);
        const out = be.empty([lm.T]);
        keep(out);
        const targets = randInts(lm.T, 13, 0, V);
        return () => be.lmHeadLogprobsForward(out, inp, wte, targets, 1, lm.T, lm.C, V);
      })]);
    }

    // GRAIL sketch, where the backend has it (it returns to the host, so every call includes its readback).
    const sk = plan.sketch;
    const skShape = `T=${sk.T} C=${sk.C}`;
    const r = randInts(V4.grail.topK, 14, -V4.grail.coeffRange, V4.grail.coeffRange + 1);
    await b.compare('sketch', skShape, 'pos/s', (ms) => sk.T / (ms / 1000), ours('sketch', skShape, 0, (be, keep) => {
      const op = (be as Partial<{ sketchForward: SketchOp }>).sketchForward;
      if (typeof op !== 'function') return 'no sketchForward on this backend yet';
      const hidden = be.upload(rand(sk.T * sk.C, 15, 4), [sk.T, sk.C]);
      keep(hidden);
      return () => op.call(be, hidden, r, 1, sk.T, sk.C, V4.grail);
    }));

    // a full forward of the tiny model: T tokens → log-probs of T targets.
    const { cfg, T: MT } = plan.model;
    const modelShape = `tiny forward L=${cfg.L} C=${cfg.C} F=${cfg.F} V=${cfg.V} T=${MT} bf16`;
    const layerFlops = 2 * MT * (cfg.C * (2 * cfg.NH * cfg.HD + 2 * cfg.NKV * cfg.HD) + 3 * cfg.C * cfg.F) + 4 * cfg.HD * cfg.NH * ((MT * (MT + 1)) / 2);
    const modelFlops = cfg.L * layerFlops + 2 * MT * cfg.C * cfg.V;
    const weights = randomQwen3Weights(cfg, 16, { bf16: true });
    const tokens = randInts(MT, 17, 0, cfg.V);
    const targets = randInts(MT, 18, 0, cfg.V);
    await b.compare('model', modelShape, 'tok/s', (ms) => MT / (ms / 1000), ours('model', modelShape, modelFlops, (be, keep) => {
      const w = uploadQwen3Weights(be, cfg, weights);
      keep(() => disposeQwen3Weights(be, w));
      const model = new Qwen3Model(be, cfg, w);
      return () => model.forward(tokens, 1, MT, { targets, returnHidden: false });
    }));
  } finally {
    for (const s of subs) s.be.destroy();
    for (const p of peers) p.destroy();
  }
  return { machine, rows: b.rows, notes: b.notes, peers: peers.map((p) => p.name) };
}
