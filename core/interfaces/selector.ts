/**
 * Selector: the miner's choice of which (environment, prompt) groups to generate this window (spec/market.md §10).
 *
 * `pick(ctx)` sees what the miner knows: the validator's `/state` snapshot (window, randomness, checkpoint, the
 * cooled prompt indices of every environment), the environments and their mix weights, and the miner's own feed
 * (its verdicts and the public archives). It returns up to `ctx.count` distinct picks, none of them cooled.
 * Learning selectors also get every event through `observe` (what was submitted, each verdict, each archive,
 * a new checkpoint); stateless ones omit it. Implementations are plugins (`plugins/selector-uniform`, …).
 *
 * @example
 *   const picks = await selector.pick({ state, environments, mix: profile.environmentMix, count: 4 });
 *   for (const { env, promptIdx } of picks) generateGroup(env, promptIdx);
 *   selector.observe?.({ kind: 'checkpoint', checkpointN: 3 });
 */
import type { WindowArchive } from '../market/archive.ts';
import type { Verdict } from '../protocol/wire.ts';
import type { Environment } from './environment.ts';

/** The part of the validator's `/state` a selector reads, for all environments at once. */
export interface StateSnapshot {
  /** Window number (`window_n`). */
  readonly window: number;
  /** Window randomness (64 hex). */
  readonly randomness: string;
  /** Checkpoint the window is pinned to. */
  readonly checkpointN: number;
  /** Cooled prompt indices per environment name; a missing environment has none. */
  readonly cooldowns: Readonly<Record<string, readonly number[]>>;
}

/** What the miner has learned so far: its `/verdicts` (wire `Verdict`s) and the public window archives (newest last). */
export interface MinerFeed {
  readonly verdicts: readonly Verdict[];
  readonly archives: readonly WindowArchive[];
}

export interface SelectorContext {
  readonly state: StateSnapshot;
  /** The environments this miner can generate for (by `name`). */
  readonly environments: readonly Environment[];
  /** Mix weights `[env, weight]` (the profile's `environmentMix`); an env with no weight is never picked. */
  readonly mix: readonly (readonly [string, number])[];
  /** How many groups the miner wants (its remaining quota this window). */
  readonly count: number;
  readonly feed?: MinerFeed;
}

/** One group to generate: environment name and prompt index (in [0, env.size)). */
export interface SelectorPick {
  readonly env: string;
  readonly promptIdx: number;
}

/** Something a selector may learn from. `rewards` are the miner's own local rewards of the group it submitted. */
export type SelectorEvent =
  | { readonly kind: 'submitted'; readonly window: number; readonly env: string; readonly promptIdx: number; readonly merkleRoot: string; readonly rewards: readonly number[] }
  | { readonly kind: 'verdict'; readonly verdict: Verdict }
  | { readonly kind: 'archive'; readonly archive: WindowArchive }
  | { readonly kind: 'checkpoint'; readonly checkpointN: number };

export interface Selector {
  /** Plugin name, e.g. `uniform`. */
  readonly name: string;
  /** Up to `ctx.count` distinct, uncooled picks (fewer when fewer are eligible). */
  pick(ctx: SelectorContext): SelectorPick[] | Promise<SelectorPick[]>;
  /** Learn from an event (optional; stateless selectors omit it). */
  observe?(event: SelectorEvent): void;
}

/**
 * The weighted environment draw both selectors make per slot (upstream's mix pick): one `rng()` draw in [0, 1),
 * scaled by the total weight of `live`, walked in order; the last entry absorbs rounding. `live` must be non-empty.
 */
export function pickWeighted<T extends { readonly weight: number }>(live: readonly T[], rng: () => number): T {
  const total = live.reduce((s, p) => s + p.weight, 0);
  let r = rng() * total;
  for (const p of live) {
    if (r < p.weight) return p;
    r -= p.weight;
  }
  return live[live.length - 1]!;
}
