/**
 * `selectorFrontier(options)`: a miner `Selector` (core/interfaces/selector.ts) that learns which prompts sit in
 * the zone and picks the ones worth most to the difficulty auction (spec/market.md §3, §10).
 *
 * Per prompt it keeps the evidence seen under the current checkpoint, successes and failures, from
 *   - the miner's own groups (`submitted` events: the local rewards of the 16 rollouts),
 *   - the public archives (`archive` events, or `ctx.feed.archives`): every pool candidate's prompt and μ, so a
 *     candidate of another hotkey is μ·M successes of M; honest losers stay open and are the best-known prompts,
 * and combines it with a prior Beta(a, b) into a posterior. The prior comes from an injected `prior(problem)`
 * when given, else from an empirical-Bayes prior of the prompt's feature bucket (default: its prompt length in
 * half-octaves), learned from the groups of prompts this selector explored (unbiased draws, unlike the archives).
 *
 * Each prompt is scored by the expected auction value of its next group, E[σ·(1−μ)] under the Beta-Binomial
 * posterior predictive for M = 16 with the σ floor applied (`posterior.ts`). That peaks at p ≈ 0.25 and is ≈ 0
 * for solved and impossible prompts. With `objective: 'zone'` it is instead P(σ ≥ floor), the probability that the
 * group lands in the zone: the market pays by value, but in a small pool nearly every in-zone group wins, so there
 * P(zone) is the better objective. An optional `bucketHint` (a Beta from prompt features alone, e.g. a difficulty
 * guess) is the bucket prior before the bucket has observations, so the first window is informed by prompt shape,
 * and is worth `hintWeight` groups after. The score is divided by 1 + crowdPenalty × (other hotkeys' groups per
 * window on the prompt over the last `crowdWindows` archives): one winner per prompt, so a crowded prompt pays less.
 *
 * Picking, per slot: an environment by mix weight (as upstream), then with probability `explore` a uniformly
 * random unknown prompt, else the best-scored one among the known prompts and a random sample of `sampleSize`
 * unknown ones (scored by their prior). Never a cooled prompt (`state.cooldowns`), a prompt seen winning (archive
 * status `selected`/`cooldown`, or an own verdict `selected_for_batch`), or a prompt or problem id already picked
 * this window. A new checkpoint (`checkpoint` event, or a higher `state.checkpointN`) clears the evidence (keeps
 * `evidenceCarry` of it, when set, as older archives then count that much); the bucket prior keeps `priorCarry` of
 * its weight. Deterministic for a seed (an sfc32 stream, as selector-uniform).
 *
 * @example
 *   const selector = selectorFrontier({ seed: 'miner-1', hotkey: myHotkey });
 *   const picks = selector.pick({ state, environments: [math], mix: [['openmathinstruct', 1]], count: 32 });
 *   selector.observe({ kind: 'submitted', window, env, promptIdx, merkleRoot, rewards });
 *   selector.observe({ kind: 'archive', archive });
 */
import { wrapIndex, type Environment, type Problem } from '../../core/interfaces/environment.ts';
import { pickWeighted, type MinerFeed, type Selector, type SelectorContext, type SelectorEvent, type SelectorPick, type StateSnapshot } from '../../core/interfaces/selector.ts';
import type { WindowArchive } from '../../core/market/archive.ts';
import type { Verdict } from '../../core/protocol/wire.ts';
import { seededRng, type Rng } from '../selector-uniform/index.ts';
import { BucketPrior, expectedZoneValue, zoneProbabilityTable, zoneValueTable } from './posterior.ts';

export interface SelectorFrontierOptions {
  /** RNG seed (string or integer); null seeds from the platform's random source. */
  seed: string | number | null;
  /** Rollouts per group, M. */
  groupSize: number;
  /** σ floor of the zone (steady v4: 0.24). */
  sigmaFloor: number;
  /** Prior Beta(a, b) before anything is learned (Jeffreys). */
  basePrior: readonly [number, number];
  /** Feature bucket of a prompt for the learned prior; null: `${env}|len${⌊2·log2(prompt length + 1)⌋}`. */
  bucket: ((problem: Problem, env: string) => string) | null;
  /** An injected prior Beta(a, b) from cheap prompt features or a proxy model; null (or a null answer): learned. */
  prior: ((problem: Problem, env: string) => readonly [number, number] | null) | null;
  /** Share of picks spent on uniformly random unknown prompts. */
  explore: number;
  /** Unknown prompts drawn per environment and call to compete with the known ones. */
  sampleSize: number;
  /** Score divisor per competing group a window on the prompt (archives). */
  crowdPenalty: number;
  /** Archives remembered for crowding. */
  crowdWindows: number;
  /** This miner's hotkey: its archive candidates are skipped (already learned from `submitted`). */
  hotkey: string | null;
  /** Weight of one archived group relative to an own group. */
  archiveWeight: number;
  /** Share of the bucket prior's weight kept across a checkpoint. */
  priorCarry: number;
  /**
   * Share of each prompt's evidence kept across a checkpoint (0: reset, spec/market.md §10). Where a checkpoint is a
   * small step (the devnet publishes one every window), pass rates barely move and the last windows' evidence, and
   * archives from before the checkpoint (weighted by this share), still tell which prompts are in the zone.
   */
  evidenceCarry: number;
  /**
   * What a prompt is ranked by. 'value': the expected auction value of its next group, E[σ·(1−μ)] with the floor
   * applied — what the market pays for (spec/market.md §3). 'zone': the probability that the next group lands in
   * the zone, P(σ ≥ floor) under the posterior predictive. In a small pool (few miners, fewer in-zone groups than
   * the auction has winners) nearly every in-zone group wins whatever its value, so there P(zone) is the better
   * objective: it does not trade a likely in-zone group for a less likely but higher-valued one.
   */
  objective: 'value' | 'zone';
  /**
   * A heuristic prior Beta(a, b) for a prompt's feature bucket from its features alone (e.g. a difficulty guess:
   * longer operands are harder), used before the bucket has observations and as `hintWeight` pseudo-groups after
   * (the learned bucket prior then shrinks towards it, not towards the global pass rate). Must depend on the bucket
   * only (it is cached per bucket and pick call). null: none. Ignored for prompts with an injected `prior`.
   */
  bucketHint: ((problem: Problem, env: string) => readonly [number, number] | null) | null;
  /** Pseudo-groups the `bucketHint` is worth against observed groups of its bucket. */
  hintWeight: number;
}

/** Documented defaults (v4: M = 16, σ floor 0.24). */
export const SELECTOR_FRONTIER_DEFAULTS: Readonly<SelectorFrontierOptions> = Object.freeze({
  seed: null,
  groupSize: 16,
  sigmaFloor: 0.24,
  basePrior: Object.freeze([0.5, 0.5]) as readonly [number, number],
  bucket: null,
  prior: null,
  explore: 0.1,
  sampleSize: 256,
  crowdPenalty: 0.5,
  crowdWindows: 8,
  hotkey: null,
  archiveWeight: 1,
  priorCarry: 0.5,
  evidenceCarry: 0,
  objective: 'value',
  bucketHint: null,
  hintWeight: 4,
});

/** Successes and failures seen for one prompt under the current checkpoint. */
export interface Evidence {
  successes: number;
  failures: number;
}

/** The frontier selector: a `Selector` that always learns, plus read-outs for tests and dashboards. */
export interface FrontierSelector extends Selector {
  /** Synchronous: up to `ctx.count` distinct, uncooled picks, best first (exploration interleaved). */
  pick(ctx: SelectorContext): SelectorPick[];
  observe(event: SelectorEvent): void;
  /** Evidence for a prompt under the current checkpoint, or null when none. */
  evidence(env: string, promptIdx: number): Readonly<Evidence> | null;
  /** The current score of a prompt: expected auction value of its next group, crowding applied. */
  score(env: Environment, promptIdx: number): number;
}

/** Archive statuses that mean a prompt is won or cooled: never pick it again. */
const CLOSED_STATUSES: ReadonlySet<string> = new Set(['selected', 'cooldown', 'content_in_cooldown']);
/** Bound of every bookkeeping map that grows with events. */
const MAX_TRACKED = 4096;
const MAX_META = 200_000;

/** The default feature bucket: environment and prompt length in half-octaves. */
export function lengthBucket(problem: Problem, env: string): string {
  return `${env}|len${Math.floor(2 * Math.log2(problem.prompt.length + 1))}`;
}

interface Meta {
  readonly bucket: string;
  readonly id: string;
  readonly prior: readonly [number, number] | null;
  readonly hint: readonly [number, number] | null;
}

interface Scored {
  readonly idx: number;
  readonly score: number;
  readonly jitter: number;
}

/** The frontier selector. */
export function selectorFrontier(options: Partial<SelectorFrontierOptions> = {}): FrontierSelector {
  const o: SelectorFrontierOptions = { ...SELECTOR_FRONTIER_DEFAULTS, ...options };
  if (!(Number.isSafeInteger(o.groupSize) && o.groupSize >= 2)) throw new RangeError('selectorFrontier: groupSize must be an integer ≥ 2');
  if (!(o.explore >= 0 && o.explore <= 1)) throw new RangeError('selectorFrontier: explore must be in [0, 1]');
  if (!(o.evidenceCarry >= 0 && o.evidenceCarry <= 1)) throw new RangeError('selectorFrontier: evidenceCarry must be in [0, 1]');
  const [pa, pb] = o.basePrior;
  if (!(pa! > 0 && pb! > 0)) throw new RangeError('selectorFrontier: basePrior must be two positive numbers');
  const rng: Rng = seededRng(o.seed === null ? null : `selector-frontier|${String(o.seed)}`);
  if (o.objective !== 'value' && o.objective !== 'zone') throw new RangeError("selectorFrontier: objective must be 'value' or 'zone'");
  const table = o.objective === 'zone' ? zoneProbabilityTable(o.groupSize, o.sigmaFloor) : zoneValueTable(o.groupSize, o.sigmaFloor);
  const bucketOf = o.bucket ?? lengthBucket;
  const learned = new BucketPrior([pa!, pb!], o.groupSize);

  const evidence = new Map<string, Map<number, Evidence>>(); // env → prompt → evidence (current checkpoint)
  const closed = new Map<string, Set<number>>(); // env → prompts won or cooled (kept across checkpoints)
  const meta = new Map<string, Map<number, Meta>>(); // env → prompt → features (kept across checkpoints)
  const crowdLog: { window: number; counts: Map<string, number> }[] = [];
  const pending = new Map<string, { env: string; idx: number }>(); // merkle root → prompt
  const explored = new Map<string, string>(); // `${env}#${idx}` → bucket, until its group is observed
  const seenArchives = new Set<string>();
  const seenVerdicts = new Set<string>();
  const retiredRevisions = new Set<string>();
  let revision: string | null = null;
  let checkpointN: number | null = null;
  let window: number | null = null;
  let evidenceFrom = -Infinity;
  const picked = new Map<string, Set<number>>(); // this window
  const pickedIds = new Set<string>(); // `${env}#${problem id}` this window

  const setOf = <V>(m: Map<string, Set<V>>, k: string): Set<V> => {
    let s = m.get(k);
    if (s === undefined) m.set(k, (s = new Set<V>()));
    return s;
  };
  const remember = <K, V>(m: Map<K, V> | Set<K>, k: K, v?: V): void => {
    if (m instanceof Map) m.set(k, v as V);
    else m.add(k);
    if (m.size > MAX_TRACKED) m.delete(m.keys().next().value as K);
  };

  function addEvidence(env: string, idx: number, successes: number, failures: number): void {
    let m = evidence.get(env);
    if (m === undefined) evidence.set(env, (m = new Map()));
    const e = m.get(idx) ?? { successes: 0, failures: 0 };
    e.successes += successes;
    e.failures += failures;
    m.set(idx, e);
  }

  function newCheckpoint(n: number): void {
    if (checkpointN !== null && n !== checkpointN) {
      if (o.evidenceCarry > 0) {
        for (const m of evidence.values()) {
          for (const e of m.values()) {
            e.successes *= o.evidenceCarry;
            e.failures *= o.evidenceCarry;
          }
        }
      } else evidence.clear();
      explored.clear();
      learned.decay(o.priorCarry);
      if (revision) retiredRevisions.add(revision);
      revision = null;
      evidenceFrom = window ?? -Infinity;
    }
    checkpointN = n;
  }

  function ingestArchive(a: WindowArchive): void {
    const key = `${a.validator_hotkey}|${a.window_start}`;
    if (seenArchives.has(key) || a.window_status !== 'completed') return;
    remember(seenArchives, key);
    const rev = a.checkpoint_revision;
    const stale = (rev !== '' && retiredRevisions.has(rev)) || a.window_start < evidenceFrom;
    if (!stale && rev !== '') revision = rev;
    const weight = o.archiveWeight * (stale ? o.evidenceCarry : 1);
    const counts = new Map<string, number>();
    for (const [env, auction] of Object.entries(a.difficulty_auction)) {
      for (const c of auction.candidates) {
        if (!Number.isSafeInteger(c.prompt_idx) || c.prompt_idx < 0) continue;
        if (CLOSED_STATUSES.has(c.status)) setOf(closed, env).add(c.prompt_idx);
        if (o.hotkey !== null && c.hotkey === o.hotkey) continue;
        const ck = `${env}#${c.prompt_idx}`;
        counts.set(ck, (counts.get(ck) ?? 0) + 1);
        const mu = Math.min(1, Math.max(0, Number(c.mean)));
        if (weight > 0 && Number.isFinite(mu)) addEvidence(env, c.prompt_idx, mu * o.groupSize * weight, (1 - mu) * o.groupSize * weight);
      }
    }
    crowdLog.push({ window: a.window_start, counts });
    crowdLog.sort((x, y) => x.window - y.window);
    while (crowdLog.length > Math.max(0, o.crowdWindows)) crowdLog.shift();
  }

  function ingestVerdict(v: Verdict): void {
    const key = `${v.merkle_root}|${v.ts}`;
    if (seenVerdicts.has(key)) return;
    remember(seenVerdicts, key);
    const p = pending.get(v.merkle_root);
    if (p !== undefined && (v.selected_for_batch === true || v.rewarded === true)) setOf(closed, p.env).add(p.idx);
  }

  function ingestFeed(feed: MinerFeed): void {
    for (const a of feed.archives) ingestArchive(a);
    for (const v of feed.verdicts) ingestVerdict(v);
  }

  function syncState(state: StateSnapshot): void {
    if (window !== state.window) {
      window = state.window;
      picked.clear();
      pickedIds.clear();
    }
    newCheckpoint(state.checkpointN);
  }

  function metaOf(env: Environment, idx: number): Meta {
    let m = meta.get(env.name);
    if (m === undefined) meta.set(env.name, (m = new Map()));
    let x = m.get(idx);
    if (x === undefined) {
      if (m.size >= MAX_META) m.clear();
      const problem = env.getProblem(idx);
      x = { bucket: bucketOf(problem, env.name), id: problem.id, prior: o.prior?.(problem, env.name) ?? null, hint: o.bucketHint?.(problem, env.name) ?? null };
      m.set(idx, x);
    }
    return x;
  }

  function crowdOf(env: string, idx: number): number {
    if (crowdLog.length === 0) return 0;
    let n = 0;
    for (const w of crowdLog) n += w.counts.get(`${env}#${idx}`) ?? 0;
    return n / crowdLog.length;
  }

  function scoreOf(env: Environment, idx: number, priors: Map<string, [number, number]>): number {
    const m = metaOf(env, idx);
    let prior = m.prior;
    if (prior === null) {
      let p = priors.get(m.bucket);
      if (p === undefined) priors.set(m.bucket, (p = learned.prior(m.bucket, m.hint, o.hintWeight)));
      prior = p;
    }
    const e = evidence.get(env.name)?.get(idx);
    const a = Math.max(1e-6, prior[0] + (e?.successes ?? 0));
    const b = Math.max(1e-6, prior[1] + (e?.failures ?? 0));
    return expectedZoneValue(a, b, table) / (1 + o.crowdPenalty * crowdOf(env.name, idx));
  }

  /** Per environment: the ranked known ∪ sampled-unknown prompts and the unknown ones in random order. */
  function candidates(env: Environment, state: StateSnapshot, sample: number, priors: Map<string, [number, number]>) {
    const excluded = new Set<number>(closed.get(env.name) ?? []);
    for (const i of state.cooldowns[env.name] ?? []) if (Number.isSafeInteger(i)) excluded.add(wrapIndex(i, env.size));
    for (const i of picked.get(env.name) ?? []) excluded.add(i);
    const known = evidence.get(env.name) ?? new Map<number, Evidence>();
    const ranked: Scored[] = [];
    for (const idx of known.keys()) if (idx < env.size && !excluded.has(idx)) ranked.push({ idx, score: scoreOf(env, idx, priors), jitter: rng() });
    const unknown: number[] = [];
    const taken = new Set<number>();
    const want = Math.max(0, Math.floor(sample));
    for (let tries = 0; unknown.length < want && tries < want * 4; tries++) {
      const idx = Math.floor(rng() * env.size);
      if (excluded.has(idx) || known.has(idx) || taken.has(idx)) continue;
      taken.add(idx);
      unknown.push(idx);
    }
    for (const idx of unknown) ranked.push({ idx, score: scoreOf(env, idx, priors), jitter: rng() });
    ranked.sort((x, y) => y.score - x.score || x.jitter - y.jitter);
    return { ranked: ranked.map((s) => s.idx), unknown };
  }

  function pick(ctx: SelectorContext): SelectorPick[] {
    syncState(ctx.state);
    if (ctx.feed) ingestFeed(ctx.feed);
    const count = Math.max(0, Math.floor(ctx.count));
    if (count === 0) return [];
    const byName = new Map(ctx.environments.map((e) => [e.name, e] as const));
    const priors = new Map<string, [number, number]>();
    const pools = ctx.mix
      .filter(([name, w]) => w > 0 && byName.has(name) && byName.get(name)!.size > 0)
      .map(([name, weight]) => {
        const env = byName.get(name)!;
        return { env, weight, ...candidates(env, ctx.state, Math.max(o.sampleSize, count), priors), r: 0, u: 0 };
      });
    const out: SelectorPick[] = [];
    while (out.length < count) {
      const live = pools.filter((p) => p.r < p.ranked.length || p.u < p.unknown.length);
      if (live.length === 0) break;
      const pool = pickWeighted(live, rng);
      const exploring = rng() < o.explore;
      const name = pool.env.name;
      const done = setOf(picked, name);
      const next = (list: number[], at: 'r' | 'u'): number | null => {
        while (pool[at] < list.length) {
          const idx = list[pool[at]++]!;
          if (done.has(idx) || pickedIds.has(`${name}#${metaOf(pool.env, idx).id}`)) continue;
          return idx;
        }
        return null;
      };
      const idx = exploring ? (next(pool.unknown, 'u') ?? next(pool.ranked, 'r')) : (next(pool.ranked, 'r') ?? next(pool.unknown, 'u'));
      if (idx === null) continue;
      done.add(idx);
      pickedIds.add(`${name}#${metaOf(pool.env, idx).id}`);
      if (!evidence.get(name)?.has(idx)) remember(explored, `${name}#${idx}`, metaOf(pool.env, idx).bucket);
      out.push({ env: name, promptIdx: idx });
    }
    return out;
  }

  function observe(event: SelectorEvent): void {
    switch (event.kind) {
      case 'submitted': {
        const rewards = event.rewards.filter((x) => Number.isFinite(x)).map((x) => Math.min(1, Math.max(0, x)));
        if (rewards.length === 0) return;
        const k = rewards.reduce((s, x) => s + x, 0);
        addEvidence(event.env, event.promptIdx, k, rewards.length - k);
        remember(pending, event.merkleRoot, { env: event.env, idx: event.promptIdx });
        const key = `${event.env}#${event.promptIdx}`;
        const bucket = explored.get(key);
        if (bucket !== undefined) {
          learned.add(bucket, k / rewards.length);
          explored.delete(key);
        }
        return;
      }
      case 'verdict':
        return ingestVerdict(event.verdict);
      case 'archive':
        return ingestArchive(event.archive);
      case 'checkpoint':
        return newCheckpoint(event.checkpointN);
    }
  }

  return {
    name: 'frontier',
    pick,
    observe,
    evidence: function evidenceOf(env: string, promptIdx: number): Readonly<Evidence> | null {
      const e = evidence.get(env)?.get(promptIdx);
      return e ? { ...e } : null;
    },
    score: function score(env: Environment, promptIdx: number): number {
      return scoreOf(env, wrapIndex(promptIdx, env.size), new Map());
    },
  };
}
