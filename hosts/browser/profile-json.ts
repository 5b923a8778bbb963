/**
 * A protocol profile as JSON for the miner page (`GET /miner/config.json`): profiles hold BigInt constants, which JSON
 * has no type for, so a BigInt travels as `{"$bigint": "<decimal>"}` and is revived on the page. The page then runs
 * the exact profile the validator runs (its generation contract is checked again against `/state`).
 */
import type { Profile } from '../../core/profile/index.ts';

/** `JSON.stringify` of `profile`, BigInts tagged. */
export function profileToJson(profile: Profile): string {
  return JSON.stringify(profile, (_k, v: unknown) => (typeof v === 'bigint' ? { $bigint: v.toString() } : v));
}

/** JSON text with tagged BigInts (as `profileToJson` writes them) parsed, BigInts revived. */
export function fromTaggedJson<T>(text: string): T {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      if (keys.length === 1 && keys[0] === '$bigint' && typeof o['$bigint'] === 'string') return BigInt(o['$bigint']);
    }
    return v;
  }) as T;
}
