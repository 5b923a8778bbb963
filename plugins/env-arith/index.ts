/**
 * env-arith: the devnet's `Environment` (core/interfaces/environment.ts) — deterministic arithmetic problems whose
 * difficulty grows with the index, an exact-answer reward, and a held-out split for pass@1.
 */
export { ARITH_EOS_TEXT, ARITH_SPEC, ARITH_LEVELS, arithAnswerText, arithDifficultyPrior, arithPromptBucket, arithPromptFeatures, type ArithPromptFeatures, ENV_ARITH_DEFAULTS, envArith, exactAnswerReward, problemId, type ArithEnvironment, type ArithLevel, type EnvArithOptions } from './env-arith.ts';
export { envArithPlugin } from './plugin.ts';
