/**
 * The miner (spec/market.md §10): pure submission assembly (`submission.ts`), the injected generation step
 * (`generator.ts`), per-window bookkeeping (`stats.ts`) and the serial loop (`miner.ts`).
 */
export {
  assembleSubmission, commitGroup, finaliseSubmission, gradeGroup, gradingText, newNonce, preflightGroup,
  type CommitOptions, type CommittedGroup, type Finalisation, type GeneratedRollout, type GroupRouting, type SignedSubmission,
  type SubmissionBody, type WireRollout,
} from './submission.ts';
export { modelGenerator, type GenerateFn, type GenerateRequest } from './generator.ts';
export { WindowLedger, type GroupRecord, type GroupStatus, type WindowStats } from './stats.ts';
export {
  createMiner, jsonDifference, Miner, MINER_DEFAULTS, MinerStopError, type MinerDeps, type MinerEvent, type MinerOptions, type TickResult, type WindowCheck,
} from './miner.ts';
export { checkCheckpoint, type CheckpointCheck, type CheckpointCheckInput, type CheckpointRefusal } from './checkpoint-check.ts';
