/** Tolerances of the wasm backend against ref (forward and backward), shared by the single- and multi-thread suites. */
import type { BackwardTolerances } from './backward-suite.ts';
import type { SuiteTolerances } from './suite.ts';

// f32 everywhere (ref accumulates in f64): errors are a few ulps of the accumulated magnitude.
export const WASM_TOLERANCES: SuiteTolerances = {
  copy: { abs: 0, rel: 0 },
  elementwise: { abs: 1e-6, rel: 1e-6 },
  norm: { abs: 1e-5, rel: 1e-5 },
  rope: { abs: 1e-6, rel: 1e-6 },
  // f32 sums of C ≤ 530 products in [−1, 1]: observed ≤ 2e-5 (worst-case bound C·2⁻²⁴·Σ|xw| ≈ 4e-3).
  matmul: { abs: 5e-5, rel: 1e-5 },
  attention: { abs: 1e-5, rel: 1e-5 },
  lmHead: { abs: 1e-5, rel: 1e-6 },
  // p·(1 + Δlogit − Σ p·Δlogit): relative error ≈ 2× the logits' f32 error; observed ≤ 2e-6 (C ≤ 32, |logit| ≤ 40).
  probs: { abs: 1e-9, rel: 1e-5 },
};

// f32 accumulation everywhere (ref accumulates in f64); gradient buffers start in [−1, 1]. Observed max |Δ| (KERNELS_VERBOSE=1):
// embedding 0 (same order of f32 adds), residual 0, rmsnorm/qkNorm 3.8e-6, rope 2.4e-7, matmul 6.7e-6 (sums of ≤ 300
// products), attention 4.8e-7, swiglu 9.5e-7, lmHead 3.1e-6 (sums over V ≤ 20000 vocabulary rows).
export const WASM_BACKWARD_TOLERANCES: BackwardTolerances = {
  copy: { abs: 1e-6, rel: 1e-6 },
  elementwise: { abs: 3e-6, rel: 1e-5 },
  norm: { abs: 1e-5, rel: 1e-5 },
  rope: { abs: 1e-6, rel: 1e-6 },
  matmul: { abs: 2e-5, rel: 1e-5 },
  attention: { abs: 5e-6, rel: 1e-5 },
  lmHead: { abs: 2e-5, rel: 1e-5 },
  // the tiny model: observed 6.8e-5 (tied; untied ≈ 3e-6). The tied GRPO loss is ill-conditioned: ref's own f32 result
  // differs from float64 by 1.9e-5 there.
  model: 3e-4,
};
