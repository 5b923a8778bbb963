/**
 * Errors of the subtensor chain: every failure is a `SubtensorError` with one `reason` and a message that says what
 * happened and what to do. `explainDispatchError` maps the pallet's error names (and the transaction pool's custom
 * codes, `1010: Invalid Transaction: Custom error: N`) to reasons; the table is from pallet_subtensor's
 * `errors.rs` and `common/src/transaction_error.rs`.
 */

export const SUBTENSOR_ERROR_REASONS = Object.freeze({
  unreachable: 'the subtensor endpoint could not be reached: check `endpoint` (ws:// or wss://) and that the node is up',
  not_subtensor: 'the node does not run the subtensor runtime (no SubtensorModule pallet): check `endpoint`',
  no_subnet: 'the subnet does not exist on this chain: check `netuid`',
  no_hotkey: 'no validator hotkey is configured: set the `hotkey` option (a secret URI or mnemonic) to set weights',
  unregistered: 'the validator hotkey is not registered on this subnet: register it (burned_register) first',
  no_permit: 'the validator hotkey has no validator permit on this subnet: it needs more stake to be in the top validators',
  rate_limited: 'weights were set too recently (WeightsSetRateLimit): wait for the next epoch and try again',
  version_key: 'the weights version key is older than the subnet\'s WeightsVersionKey: update the validator or the `versionKey` option',
  stake: 'the validator hotkey has too little stake to set weights: add stake',
  bad_weights: 'the chain refused the weight vector (uids, lengths or limits): check the uids against the metagraph',
  commit_reveal: 'the subnet\'s commit-reveal mode refused the call',
  commit_reveal_unsupported: 'the subnet requires drand-timelocked (commit-reveal v3+) weights, which this plugin does not implement',
  timeout: 'the transaction was not included in time: check the node\'s health and try again',
  rejected: 'the chain rejected the transaction',
});
export type SubtensorErrorReason = keyof typeof SUBTENSOR_ERROR_REASONS;

/** A failed chain operation. */
export class SubtensorError extends Error {
  override readonly name = 'SubtensorError';
  constructor(readonly reason: SubtensorErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** pallet_subtensor error name → reason. */
const DISPATCH_REASONS: Readonly<Record<string, SubtensorErrorReason>> = Object.freeze({
  HotKeyNotRegisteredInSubNet: 'unregistered',
  HotKeyNotRegisteredInNetwork: 'unregistered',
  NotRegistered: 'unregistered',
  HotKeyAccountNotExists: 'unregistered',
  NeuronNoValidatorPermit: 'no_permit',
  SettingWeightsTooFast: 'rate_limited',
  CommittingWeightsTooFast: 'rate_limited',
  TooManyUnrevealedCommits: 'rate_limited',
  IncorrectWeightVersionKey: 'version_key',
  NotEnoughStakeToSetWeights: 'stake',
  SubnetNotExists: 'no_subnet',
  MechanismDoesNotExist: 'no_subnet',
  WeightVecNotEqualSize: 'bad_weights',
  DuplicateUids: 'bad_weights',
  UidVecContainInvalidOne: 'bad_weights',
  WeightVecLengthIsLow: 'bad_weights',
  UidsLengthExceedUidsInSubNet: 'bad_weights',
  MaxWeightExceeded: 'bad_weights',
  InputLengthsUnequal: 'bad_weights',
  CommitRevealEnabled: 'commit_reveal',
  CommitRevealDisabled: 'commit_reveal',
  NoWeightsCommitFound: 'commit_reveal',
  InvalidRevealCommitHashNotMatch: 'commit_reveal',
  RevealTooEarly: 'commit_reveal',
  ExpiredWeightCommit: 'commit_reveal',
  IncorrectCommitRevealVersion: 'commit_reveal_unsupported',
});

/** The transaction pool's custom validity codes (CustomTransactionError as u8) that concern weights. */
export const POOL_CUSTOM_ERRORS: Readonly<Record<number, [string, SubtensorErrorReason]>> = Object.freeze({
  3: ['SubnetNotExists', 'no_subnet'],
  6: ['RateLimitExceeded', 'rate_limited'],
  10: ['HotKeyNotRegisteredInNetwork', 'unregistered'],
  16: ['CommitNotFound', 'commit_reveal'],
  17: ['CommitBlockNotInRevealRange', 'commit_reveal'],
  18: ['InputLengthsUnequal', 'bad_weights'],
  19: ['UidNotFound', 'unregistered'],
});

/** A pallet error (`SubtensorModule.SettingWeightsTooFast`) or pool error (`1010 … Custom error: 6`) as a SubtensorError. */
export function explainDispatchError(error: string, context: string): SubtensorError {
  const pool = /Custom error: (\d+)/.exec(error);
  if (pool) {
    const known = POOL_CUSTOM_ERRORS[Number(pool[1])];
    const reason = known?.[1] ?? 'rejected';
    const name = known?.[0] ?? `custom error ${pool[1]}`;
    return new SubtensorError(reason, `${context}: ${SUBTENSOR_ERROR_REASONS[reason]} [transaction pool: ${name}; ${error}]`);
  }
  const name = error.includes('.') ? error.slice(error.lastIndexOf('.') + 1) : error;
  const reason = DISPATCH_REASONS[name] ?? 'rejected';
  return new SubtensorError(reason, `${context}: ${SUBTENSOR_ERROR_REASONS[reason]} [${error}]`);
}
