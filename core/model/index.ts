/** The Qwen3 model over a ComputeBackend: config parsing, weights by Hugging Face name, the forward and decode. */
export { DEFAULT_HEAD_DIM, parseQwen3Config, qwen3ConfigJson, type CheckpointDType, type Qwen3Config } from './config.ts';
export {
  checkQwen3Weights, disposeQwen3Weights, qwen3WeightShapes, uploadQwen3Weights,
  type HostTensor, type Qwen3Layer, type Qwen3Weights,
} from './weights.ts';
export { randomQwen3Weights, type RandomWeightOptions } from './init.ts';
export { Qwen3Model, type ForwardOptions, type ForwardResult, type KvCache } from './forward.ts';
export {
  checkTokenIds, eosProbability, logSoftmaxAt, PROOF_BATCH_ROWS, proofForward, proofForwards, rowStats, sketchesOf,
  type ProofForward, type ProofForwardOptions, type ProofProfile, type RowStats,
} from './proof.ts';
export { generateRollouts, type GenerateOptions, type GenerationProgress, type Rollout, type SeedStream } from './generate.ts';
