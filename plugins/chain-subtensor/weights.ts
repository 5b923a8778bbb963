/**
 * Weights as subtensor takes them: `set_weights(netuid, dests: Vec<u16>, weights: Vec<u16>, version_key: u64)`.
 * `normalizeWeightsU16` does what bittensor's `convert_weights_and_uids_for_emit` does: scale so the largest weight
 * is `u16::MAX` (65535), round, and drop uids whose weight rounds to 0 (the chain re-normalises on its side).
 * `commitHash` is the commit-reveal v2 hash, `BlakeTwo256(SCALE(hotkey, netuid, uids, values, salt, version_key))`
 * (pallet_subtensor `get_commit_hash`), encoded here by hand so it needs no runtime metadata.
 *
 * @example
 *   normalizeWeightsU16([3, 1, 7], [0.5, 0.25, 0.25]); // { uids: [1, 3, 7], values: [32768, 65535, 32768] }
 */
import { blake2AsU8a } from '@polkadot/util-crypto';

/** Largest u16. */
export const U16_MAX = 65_535;

/** Weights ready for the extrinsic: uids ascending, values in 1..65535, the largest 65535. */
export interface U16Weights {
  readonly uids: readonly number[];
  readonly values: readonly number[];
}

/** Checks and converts float weights (any positive scale) to subtensor's u16 form; throws RangeError naming the bad entry. */
export function normalizeWeightsU16(uids: readonly number[], weights: readonly number[]): U16Weights {
  if (!Array.isArray(uids) || !Array.isArray(weights)) throw new RangeError('setWeights: `uids` and `weights` must be arrays');
  if (uids.length !== weights.length) throw new RangeError(`setWeights: ${uids.length} uids but ${weights.length} weights`);
  const seen = new Set<number>();
  let max = 0;
  for (let i = 0; i < uids.length; i++) {
    const uid = uids[i]!;
    const w = weights[i]!;
    if (!Number.isSafeInteger(uid) || uid < 0 || uid > U16_MAX) throw new RangeError(`setWeights: uid ${uid} is not an integer in 0..65535`);
    if (seen.has(uid)) throw new RangeError(`setWeights: uid ${uid} is listed twice`);
    seen.add(uid);
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new RangeError(`setWeights: weight ${w} of uid ${uid} is not a finite non-negative number`);
    if (w > max) max = w;
  }
  if (!(max > 0)) throw new RangeError('setWeights: every weight is 0; there is nothing to set (put the mass on the burn uid instead)');
  const pairs: [number, number][] = [];
  for (let i = 0; i < uids.length; i++) {
    const v = Math.round((weights[i]! / max) * U16_MAX);
    if (v > 0) pairs.push([uids[i]!, v]);
  }
  pairs.sort((a, b) => a[0] - b[0]);
  return Object.freeze({ uids: Object.freeze(pairs.map((p) => p[0])), values: Object.freeze(pairs.map((p) => p[1])) });
}

/** The u16 weights back as floats summing to 1 (what the chain's epoch sees). */
export function weightsFromU16(w: U16Weights): number[] {
  const sum = w.values.reduce((a, b) => a + b, 0);
  return w.values.map((v) => (sum === 0 ? 0 : v / sum));
}

/** Commit-reveal v2 hash of a weight vector (32 bytes): `BlakeTwo256(SCALE(hotkey, netuid, uids, values, salt, version_key))`. */
export function commitHash(hotkeyPublicKey: Uint8Array, netuid: number, w: U16Weights, salt: readonly number[], versionKey: bigint): Uint8Array {
  if (!(hotkeyPublicKey instanceof Uint8Array) || hotkeyPublicKey.length !== 32) throw new RangeError('commitHash: the hotkey must be a 32-byte public key');
  const out: number[] = [...hotkeyPublicKey];
  pushU16(out, netuid);
  for (const vec of [w.uids, w.values, salt]) {
    pushCompact(out, vec.length);
    for (const x of vec) pushU16(out, x);
  }
  if (versionKey < 0n || versionKey >= 1n << 64n) throw new RangeError(`commitHash: version key ${versionKey} is not a u64`);
  for (let i = 0n; i < 8n; i++) out.push(Number((versionKey >> (8n * i)) & 0xffn));
  return blake2AsU8a(Uint8Array.from(out), 256);
}

function pushU16(out: number[], x: number): void {
  if (!Number.isSafeInteger(x) || x < 0 || x > U16_MAX) throw new RangeError(`${x} is not a u16`);
  out.push(x & 0xff, x >> 8);
}

/** SCALE compact length prefix. */
function pushCompact(out: number[], n: number): void {
  if (n < 1 << 6) out.push(n << 2);
  else if (n < 1 << 14) out.push(((n << 2) | 1) & 0xff, n >> 6);
  else if (n < 1 << 30) {
    const v = (n << 2) | 2;
    out.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  } else throw new RangeError(`vector of ${n} elements is too long`);
}
