/**
 * Seeded random Qwen3 weights for tiny test configs, by Hugging Face tensor name (so they travel the same
 * check-and-upload path as a real checkpoint). Not a training initialiser: the scales are picked so that a forward
 * stays O(1) and the final hidden states span every GRAIL bucket.
 *
 * - embed_tokens: uniform ±1; lm_head (untied): uniform ±√(3/C)/8, so logits have a std of a few units over the large
 *   final hidden states below (a tied head reuses the ±1 embedding and gives much more peaked distributions);
 * - linear weights (out, in): uniform ±√(3/in), unit gain, so activations neither vanish nor blow up with depth;
 * - layer norms, q_norm, k_norm: 1 ± 0.25;
 * - model.norm: log-uniform in [0.5, 64], so |hidden| reaches all of buckets 0 … 7 (thresholds ≈ 1.4 … 430) and the
 *   top-16 is decided by magnitude, as with the outlier dimensions of a real model.
 *
 * @example
 *   const cfg = parseQwen3Config({ ...qwen3ConfigJson(TINY) });
 *   const w = uploadQwen3Weights(be, cfg, randomQwen3Weights(cfg, 1));
 */
import { f32ToBf16 } from '../compute/bf16.ts';
import type { Qwen3Config } from './config.ts';
import { qwen3WeightShapes, type HostTensor } from './weights.ts';
import { mulberry32 } from './rng.ts';

export interface RandomWeightOptions {
  /** Store the matmul and embedding weights as bf16 (norms stay f32). Default false. */
  readonly bf16?: boolean;
}


/** Random weights for every tensor `cfg` needs, deterministic in `seed`. */
export function randomQwen3Weights(cfg: Qwen3Config, seed: number, options: RandomWeightOptions = {}): Map<string, HostTensor> {
  const rand = mulberry32(seed);
  const out = new Map<string, HostTensor>();
  for (const [name, shape] of qwen3WeightShapes(cfg)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const isNorm = shape.length === 1;
    if (name === 'model.norm.weight') {
      for (let i = 0; i < n; i++) data[i] = 0.5 * 2 ** (7 * rand());
    } else if (isNorm) {
      for (let i = 0; i < n; i++) data[i] = 1 + 0.5 * (rand() - 0.5);
    } else {
      const a = name.includes('embed_tokens') ? 1 : Math.sqrt(3 / shape[1]!) / (name === 'lm_head.weight' ? 8 : 1);
      for (let i = 0; i < n; i++) data[i] = a * (2 * rand() - 1);
    }
    out.set(name, { shape, data: options.bf16 && !isNorm ? f32ToBf16(data) : data });
  }
  return out;
}
