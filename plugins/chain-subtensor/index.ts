/**
 * chain-subtensor: a `Chain` (core/interfaces/chain.ts) against a subtensor node through `@polkadot/api`:
 * the metagraph (uid ↔ hotkey ↔ coldkey, validator permits), registrations, `set_weights` with the version key
 * or commit-reveal v2 where the subnet enables it, the block clock and tempo; reconnects, and `SubtensorError`s
 * with a reason for a dead endpoint, an unregistered validator, a rate limit and the other chain refusals.
 */
export { chainSubtensor, CHAIN_SUBTENSOR_DEFAULTS, type ChainSubtensorOptions, type SubtensorChain, type WeightsMode, type WeightsReceipt } from './chain-subtensor.ts';
export { SubtensorError, SUBTENSOR_ERROR_REASONS, explainDispatchError, POOL_CUSTOM_ERRORS, type SubtensorErrorReason } from './errors.ts';
export { decodeMetagraph, type RawMetagraph, type SubtensorNeuron } from './metagraph.ts';
export { commitHash, normalizeWeightsU16, weightsFromU16, U16_MAX, type U16Weights } from './weights.ts';
export { chainSubtensorPlugin } from './plugin.ts';
