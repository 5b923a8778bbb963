/**
 * `loadModel(backend, source)`: the one way a checkpoint becomes a `Qwen3Model` on a backend — read the checkpoint
 * through the host's `CheckpointFs`, parse its config, widen f16 tensors to f32 (bf16 and f32 bits are kept) and
 * upload the weights. Whoever loads a model (the miner host, the validator's proof of an older checkpoint, the model
 * commands) goes through here, so they all upload the same tensors.
 *
 * @example
 *   const model = await loadModel(be, { fs: nodeCheckpointFs(), dir: 'models/tiny-arith' });
 *   // … model.forward(…) …
 *   disposeQwen3Weights(be, model.weights);
 */
import type { ComputeBackend } from '../compute/backend.ts';
import { loadCheckpoint, type Checkpoint, type CheckpointFs, type HostTensor as CheckpointTensor } from './checkpoint.ts';
import { parseQwen3Config } from './config.ts';
import { Qwen3Model } from './forward.ts';
import { tensorToF32 } from './safetensors.ts';
import { uploadQwen3Weights, type HostTensor } from './weights.ts';

/** Where a checkpoint is read from: the host's files and a directory (or any path the fs understands). */
export interface ModelSource {
  readonly fs: CheckpointFs;
  readonly dir: string;
}

/** Checkpoint tensors as the model's upload takes them: f16 widened to f32, f32 and bf16 bits kept. */
export function modelTensors(tensors: ReadonlyMap<string, CheckpointTensor>): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const [name, t] of tensors) out.set(name, t.dtype === 'f16' ? { shape: t.shape, data: tensorToF32(t), dtype: 'f32' } : t);
  return out;
}

/** Reads the checkpoint of `source` and uploads it to `backend` (the caller disposes `model.weights`). */
export async function loadModel(backend: ComputeBackend, source: ModelSource): Promise<Qwen3Model> {
  return modelFromCheckpoint(backend, await loadCheckpoint(source.fs, source.dir));
}

/** A checkpoint already read (e.g. its config inspected first) uploaded to `backend`, as `loadModel` does. */
export function modelFromCheckpoint(backend: ComputeBackend, ckpt: Pick<Checkpoint, 'config' | 'tensors'>): Qwen3Model {
  const cfg = parseQwen3Config(ckpt.config);
  return new Qwen3Model(backend, cfg, uploadQwen3Weights(backend, cfg, modelTensors(ckpt.tensors)));
}
