/**
 * Window randomness, drand rounds and the per-window prompt range (spec/protocol.md §1).
 *
 * The validator opens a window on drand quicknet round R (computed from its own clock), takes the beacon's
 * randomness H(signature) and derives `randomness = hex(H(hexdec(beacon) ‖ u64(R)))`, which miners copy from
 * `/state`. The prompt range is a contiguous 5000-index slice of an environment's prompts chosen by that randomness
 * (upstream never enforces it).
 */
import type { Profile } from '../profile/index.ts';
import { concatBytes, hex, hexdec, readUBE, u64, utf8 } from './codec.ts';
import { sha256 } from './hash.ts';

/** Window randomness: hex(H(hexdec(beaconRandomness) ‖ u64(round))), 64 lowercase hex characters. */
export function windowRandomness(beaconRandomnessHex: string, round: number | bigint): string {
  return hex(sha256(concatBytes(hexdec(beaconRandomnessHex), u64(round))));
}

/** Beacon randomness of an unchained (quicknet) beacon: hex(H(signature bytes)). */
export function beaconRandomnessFromSignature(signatureHex: string): string {
  return hex(sha256(hexdec(signatureHex)));
}

/**
 * drand round current at time `t` (seconds since the epoch, fractional allowed): 1 before genesis, else
 * `1 + floor((t − genesis) / period)`, with the floor division done as Python's float `//`.
 */
export function drandRound(t: number, drand: Pick<Profile['drand'], 'genesisTime' | 'periodSeconds'>): number {
  if (!Number.isFinite(t)) throw new RangeError(`drandRound: time ${t} is not finite`);
  if (t < drand.genesisTime) return 1;
  return 1 + pyFloorDiv(t - drand.genesisTime, drand.periodSeconds);
}

/** Start time (seconds) of drand round `round` (≥ 1): genesis + (round − 1)·period. */
export function drandRoundTime(round: number, drand: Pick<Profile['drand'], 'genesisTime' | 'periodSeconds'>): number {
  return drand.genesisTime + (round - 1) * drand.periodSeconds;
}

/** CPython's float floor division `a // b` (float_floor_div): exact even where Math.floor(a / b) would round up. */
export function pyFloorDiv(a: number, b: number): number {
  if (b === 0) throw new RangeError('float floor division by zero');
  let mod = a % b; // C fmod: exact
  let div = (a - mod) / b;
  if (mod !== 0 && b < 0 !== mod < 0) {
    mod += b;
    div -= 1;
  }
  if (div === 0) return 0;
  let floordiv = Math.floor(div);
  if (div - floordiv > 0.5) floordiv += 1;
  return floordiv;
}

/**
 * Eligible prompt indices `[lo, hi)` of an environment with `n` prompts this window (`window_prompt_range`):
 * `[0, n)` when n ≤ size, else `lo = u64(H("prompt-range/v1|" ‖ env ‖ "|" ‖ randomness)[:8]) mod (n − size)`,
 * `[lo, lo + size)`. Env and randomness are UTF-8 (`str.encode()`); the randomness is the hex *string*, so its case
 * matters. As upstream, index n−1 can never be eligible when n > size.
 */
export function promptRange(
  randomness: string,
  env: string,
  n: number,
  range: Pick<Profile['promptRange'], 'size'>,
): readonly [number, number] {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`promptRange: n=${n} is not a non-negative integer`);
  const [lo, hi] = promptRangeBig(randomness, env, BigInt(n), range);
  return [Number(lo), Number(hi)];
}

/**
 * {@link promptRange} over arbitrary-precision integers: upstream's `universe_n` is a Python int, so any n ≥ 0 is
 * a valid input (the conformance vectors include n beyond 2^53). Same maths, exact for every n.
 * @example promptRangeBig(R, 'openmathinstruct', 2n ** 64n + 3n, V4.promptRange) // [lo, lo + 5000n]
 */
export function promptRangeBig(
  randomness: string,
  env: string,
  n: bigint,
  range: Pick<Profile['promptRange'], 'size'>,
): readonly [bigint, bigint] {
  if (n < 0n) throw new RangeError(`promptRange: n=${n} is not a non-negative integer`);
  const size = BigInt(range.size);
  if (n <= size) return [0n, n];
  const seed = sha256(concatBytes(utf8('prompt-range/v1|'), utf8(env), utf8('|'), utf8(randomness)));
  const lo = readUBE(seed, 0, 8) % (n - size);
  return [lo, lo + size];
}
