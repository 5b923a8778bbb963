/**
 * Dispatch of attention (attention.wgsl.ts): per chunk of query rows the scores, softmax and pv passes (plus the
 * combine pass when the keys are split), through the context's scratch buffers for P (≤ ATTENTION_SCRATCH_BYTES) and
 * the split partials, kept from call to call.
 */
import { grid, type GpuContext } from './context.ts';
import {
  ATTENTION_ROW_GROUPS, ATTENTION_WG, AttentionParams, attentionPvWorkgroup, attentionCombineWgsl, attentionPvWgsl, attentionScoresWgsl,
  attentionSoftmaxWgsl,
} from './attention.wgsl.ts';

/** Bytes of P (and 1/Σ) per chunk of rows at most; longer calls walk their rows in several chunks. */
export const ATTENTION_SCRATCH_BYTES = 32 * 2 ** 20;
/**
 * Split the keys of the pv pass (split-K) while fewer than this many invocations would run (few rows, many keys):
 * [on a CPU adapter, on a GPU]. On lavapipe a decode step's 256 pv invocations (HG = 8, HD = 128) already fill its
 * threads, and splitting them 8 ways was 1.2× slower at S = 1,024 and 2.6× at S = 4,096; a GPU has thousands of lanes
 * to fill (not measured here: there is no GPU on this machine).
 */
export const ATTENTION_TARGET_INVOCATIONS = { cpu: 128, gpu: 8192 } as const;
/** Fewest keys per split. */
const MIN_SPLIT_KEYS = 64;

/** The query rows of one chunk per call: as many as fit ATTENTION_SCRATCH_BYTES for the longest key range, in fours. */
export function attentionChunkRows(HG: number, R: number, keys: number): number {
  const fit = Math.floor(ATTENTION_SCRATCH_BYTES / 4 / HG / (keys + 1) / 4) * 4;
  return Math.max(4, Math.min(Math.ceil(R / 4) * 4, fit));
}

export function attention(
  ctx: GpuContext, out: GPUBuffer, q: GPUBuffer, k: GPUBuffer, v: GPUBuffer,
  B: number, T: number, NH: number, NKV: number, HD: number, past: number, S: number,
): void {
  const G = NH / NKV;
  const R = T * G;
  const HG = B * NKV;
  const HD4 = Math.ceil(HD / 4);
  const chunk = attentionChunkRows(HG, R, past + T);
  const scratch = ctx.scratch('attention P', HG * (past + T + 1) * chunk * 4);
  for (let row0 = 0; row0 < R; row0 += chunk) {
    const rows = Math.min(chunk, R - row0);
    const Rp = Math.ceil(rows / 4) * 4;
    const L = past + Math.floor((row0 + rows - 1) / G) + 1;
    const pvBase = HG * (Rp / 4) * Math.ceil(HD4 / attentionPvWorkgroup(HD)) * attentionPvWorkgroup(HD);
    const want = Math.ceil(ATTENTION_TARGET_INVOCATIONS[ctx.cpu ? 'cpu' : 'gpu'] / pvBase);
    const splitKeys = Math.max(MIN_SPLIT_KEYS, Math.ceil(L / Math.max(1, want)));
    const splits = Math.ceil(L / splitKeys);
    const params = AttentionParams.pack({ T, NH, NKV, past, S, HG, row0, rows, Rp, L, splits, splitKeys, scale: 1 / Math.sqrt(HD) });
    const gx = Math.ceil(L / 4 / ATTENTION_WG);
    const gy = Math.ceil(rows / 4 / ATTENTION_ROW_GROUPS);
    if (gx > 65535 || gy > 65535 || HG > 65535) {
      throw new Error(`attentionForward: B=${B} NKV=${NKV} T=${T} past=${past} exceed the webgpu dispatch limit`);
    }
    ctx.run({ key: `attentionScores:${HD}:${G}`, code: () => attentionScoresWgsl(HD, G) }, [scratch, q, k], params, [gx, gy, HG]);
    ctx.run({ key: `attentionSoftmax:${G}`, code: () => attentionSoftmaxWgsl(G) }, [scratch], params, [Math.ceil(rows / ATTENTION_WG), HG]);
    const pvGroups = grid(HG * Math.ceil(rows / 4 / ATTENTION_ROW_GROUPS) * splits);
    if (splits === 1) {
      ctx.run({ key: `attentionPv:${HD}:${G}`, code: () => attentionPvWgsl(HD, G, false) }, [out, scratch, v], params, pvGroups);
    } else {
      const part = ctx.scratch('attention partials', HG * Rp * splits * HD * 4);
      ctx.run({ key: `attentionPv:${HD}:${G}:split`, code: () => attentionPvWgsl(HD, G, true) }, [part, scratch, v], params, pvGroups);
      ctx.run({ key: `attentionCombine:${HD}:${G}`, code: () => attentionCombineWgsl(HD, G) }, [out, part], params,
        grid(Math.ceil((HG * rows * HD) / ATTENTION_WG)));
    }
  }
}
