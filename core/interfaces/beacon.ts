/**
 * Beacon: the source of public randomness a window opens on (spec/protocol.md §1).
 *
 * A beacon is a sequence of numbered rounds; each round carries a signature that anyone can check against the
 * chain's public key, and randomness derived from it. The validator reads round R at window open and miners copy
 * the derived window randomness, so a beacon implementation must never hand out a round it has not verified.
 * Implementations are plugins (`plugins/beacon-drand` is drand quicknet over HTTP relays); this file is
 * runtime-agnostic and imports nothing from a host.
 *
 * Every refusal is a `BeaconError` whose `reason` is one member of `BeaconErrorReason` and whose message says
 * what was wrong and what to do about it.
 *
 * @example
 *   try {
 *     const b = await beacon.round(beacon.roundAt(Date.now() / 1000));
 *     open(windowRandomness(b.randomness, b.round));
 *   } catch (e) {
 *     if (e instanceof BeaconError && e.reason === 'unavailable') retryLater();
 *     else throw e;
 *   }
 */

/** One verified beacon round. Hex fields are lowercase, without a prefix. */
export interface BeaconRound {
  /** Round number (≥ 1). */
  readonly round: number;
  /** The round's signature, hex. */
  readonly signature: string;
  /** The round's randomness, hex (for drand quicknet: sha256(signature), 64 characters). */
  readonly randomness: string;
}

/** A source of public randomness. Every round it returns has been verified. */
export interface Beacon {
  /** Plugin name, e.g. `drand-quicknet`. */
  readonly name: string;
  /** The newest round the source serves. */
  latest(): Promise<BeaconRound>;
  /** Round `n` (rejects with `wrong_round` if a source answers with another round). */
  round(n: number): Promise<BeaconRound>;
  /** The round current at `unixSeconds` (pure: the chain's clock, no I/O). */
  roundAt(unixSeconds: number): number;
}

/** Why a beacon was refused. Wire values are the lowercase strings. */
export const BeaconErrorReason = Object.freeze({
  /** Not decodable: bad hex, wrong length, round not a positive integer, not JSON of the expected shape. */
  MALFORMED: 'malformed',
  /** The signature does not verify for this round under the chain's public key (or is not a curve point). */
  BAD_SIGNATURE: 'bad_signature',
  /** The randomness is not the one the signature implies. */
  RANDOMNESS_MISMATCH: 'randomness_mismatch',
  /** A valid beacon, but of another round than the one asked for. */
  WRONG_ROUND: 'wrong_round',
  /** The source or the configuration belongs to another chain (chain hash, public key or scheme differ). */
  WRONG_CHAIN: 'wrong_chain',
  /** No source produced a valid beacon in time. */
  UNAVAILABLE: 'unavailable',
  /** A valid beacon, but of a round too old (or too far ahead of this clock) for the window it is offered for. */
  STALE: 'stale',
} as const);

export type BeaconErrorReason = (typeof BeaconErrorReason)[keyof typeof BeaconErrorReason];

/** One source's failure, kept by `unavailable` errors so a person can see what each relay did. */
export interface BeaconSourceFailure {
  readonly source: string;
  readonly reason: BeaconErrorReason;
  readonly message: string;
}

/**
 * A refused beacon or an unreachable source. `reason` is machine-readable; `message` is one line a person can act
 * on. `failures` lists each source's last failure when several were tried.
 */
export class BeaconError extends Error {
  override readonly name = 'BeaconError';
  readonly reason: BeaconErrorReason;
  readonly failures: readonly BeaconSourceFailure[];

  constructor(reason: BeaconErrorReason, message: string, failures: readonly BeaconSourceFailure[] = []) {
    super(message);
    this.reason = reason;
    this.failures = failures;
  }
}

/** True when `e` is a BeaconError, optionally of one reason. */
export function isBeaconError(e: unknown, reason?: BeaconErrorReason): e is BeaconError {
  return e instanceof BeaconError && (reason === undefined || e.reason === reason);
}
