/**
 * selector-frontier in a simulated market shaped like the devnet (`reliquary devnet`): the real env-arith prompts
 * (9 levels by index band), each prompt with a pass rate drawn around its level's held-out pass@1 of the embedded
 * model (L0 0.995, L1 0.978, L2 0.795, L3 0.990, L4 0.083, L5 0.003, L6 0.265, L7 0.005, L8 0.000; per prompt a
 * Beta around it, so a level mixes easy and hard prompts), groups of M = 16 Bernoulli rollouts, the zone σ ≥ 0.24
 * (k = 1..15), 3 miners (miner-1 frontier, miner-2/3 uniform) of 8 groups a window (the devnet quota), an auction
 * of 4 winners (one per prompt, winners cooled), a new checkpoint every window (the devnet trains and publishes
 * each window), 3 windows. The frontier selector is built as the devnet builds it (`DEVNET_FRONTIER`: the
 * env-arith prompt-feature bucket `arithPromptBucket`, evidence kept across the per-window checkpoints, the generic
 * digit-work difficulty guess `arithDifficultyPrior` as the bucket prior's hint, ranked by P(in zone)) and sees what the devnet miner feeds it: its own submitted rewards, checkpoints
 * and (with `archives`) the public window archives in its feed at pick time, as the devnet's miner host reads them
 * from the validator's store. The pass rates are the simulator's only: the selector learns.
 */
import { describe, expect, it } from 'vitest';
import type { Selector } from '../../core/interfaces/selector.ts';
import type { ArchiveCandidate, WindowArchive } from '../../core/market/archive.ts';
import { arithDifficultyPrior, arithPromptBucket, arithPromptFeatures, envArith } from '../../plugins/env-arith/index.ts';
import { selectorFrontier, type SelectorFrontierOptions } from '../../plugins/selector-frontier/index.ts';
import { seededRng, selectorUniform, type Rng } from '../../plugins/selector-uniform/index.ts';

/** The frontier options the devnet miner host passes (hosts/node/devnet/miner-host.ts). */
const DEVNET_FRONTIER: Partial<SelectorFrontierOptions> = { bucket: arithPromptBucket, evidenceCarry: 0.8, objective: 'zone', bucketHint: arithDifficultyPrior };
const M = 16;
const LEVEL_PASS = [0.995, 0.978, 0.795, 0.99, 0.083, 0.003, 0.265, 0.005, 0];
const QUOTA = 8;
const WINNERS = 4;

/** A Beta(a, b) draw (Jöhnk for small shapes is enough here: a, b ≤ a few). */
function betaDraw(rng: Rng, a: number, b: number): number {
  for (;;) {
    const x = rng() ** (1 / a);
    const y = rng() ** (1 / b);
    if (x + y <= 1 && x + y > 0) return x / (x + y);
  }
}

interface Stats {
  groups: number;
  inZone: number;
  wins: number;
}

async function simulate(seed: string, o: { windows?: number; archives?: boolean; concentration?: number; devnet?: boolean; frontier?: Partial<SelectorFrontierOptions>; quota?: number } = {}) {
  const { windows = 3, archives = false, concentration = 3, devnet = true, frontier = {}, quota = QUOTA } = o;
  const env = envArith();
  const passRng = seededRng(`devnet-sim-pass|${seed}`);
  const pass = new Map<number, number>();
  const passOf = (i: number): number => {
    let p = pass.get(i);
    if (p === undefined) {
      const mean = LEVEL_PASS[env.level(i)]!;
      p = mean <= 0 ? 0 : mean >= 1 ? 1 : betaDraw(passRng, mean * concentration, (1 - mean) * concentration);
      pass.set(i, p);
    }
    return p;
  };
  const miners: [string, string, Selector][] = [
    ['miner-1', 'op-1', selectorFrontier({ ...(devnet ? DEVNET_FRONTIER : {}), ...frontier, seed: `${seed}|miner-1`, hotkey: 'miner-1' })],
    ['miner-2', 'op-2', selectorUniform({ seed: `${seed}|miner-2` })],
    ['miner-3', 'op-2', selectorUniform({ seed: `${seed}|miner-3` })],
  ];
  const stats = new Map(miners.map(([hk]) => [hk, { groups: 0, inZone: 0, wins: 0 } as Stats]));
  const rollouts = seededRng(`devnet-sim-rollouts|${seed}`);
  const cooled = new Set<number>();
  const published: WindowArchive[] = [];
  for (let w = 0; w < windows; w++) {
    const state = { window: w, randomness: '00'.repeat(32), checkpointN: w, cooldowns: { [env.name]: [...cooled] } };
    const pool: { hotkey: string; operator: string; idx: number; mean: number; sigma: number; value: number; jitter: number }[] = [];
    for (const [hotkey, operator, sel] of miners) {
      if (w > 0) sel.observe?.({ kind: 'checkpoint', checkpointN: w });
      const picks = await sel.pick({ state, environments: [env], mix: [[env.name, 4]], count: quota, feed: { verdicts: [], archives: published.slice(-8) } });
      const s = stats.get(hotkey)!;
      for (const { promptIdx } of picks) {
        expect(cooled.has(promptIdx)).toBe(false);
        const p = passOf(promptIdx);
        const rewards = Array.from({ length: M }, (): number => (rollouts() < p ? 1 : 0));
        const k = rewards.reduce((a, b) => a + b, 0);
        const mean = k / M;
        const sigma = Math.sqrt(mean * (1 - mean));
        s.groups++;
        if (k >= 1 && k < M) {
          s.inZone++;
          pool.push({ hotkey, operator, idx: promptIdx, mean, sigma, value: sigma * (1 - mean), jitter: rollouts() });
        }
        const merkleRoot = `${hotkey}|${w}|${s.groups}`;
        sel.observe?.({ kind: 'submitted', window: w, env: env.name, promptIdx, merkleRoot, rewards });
      }
    }
    pool.sort((a, b) => b.value - a.value || a.jitter - b.jitter);
    const won = new Set<number>();
    const candidates: ArchiveCandidate[] = pool.map((c, rank) => {
      let status = 'not_needed';
      if (won.has(c.idx)) status = 'same_prompt_superseded';
      else if (won.size < WINNERS) {
        status = 'selected';
        won.add(c.idx);
        stats.get(c.hotkey)!.wins++;
      }
      return candidate(c, rank, status);
    });
    for (const i of won) cooled.add(i);
    if (archives) published.push(windowArchive(w, `rev-${w}`, env.name, candidates));
  }
  return stats;
}

function candidate(c: { hotkey: string; operator: string; idx: number; mean: number; sigma: number; value: number }, rank: number, status: string): ArchiveCandidate {
  return {
    id: `${c.hotkey}-${c.idx}-${rank}`, rank, value: c.value, mean: c.mean, sigma: c.sigma, hotkey: c.hotkey, operator: c.operator,
    prompt_idx: c.idx, content_sha256: '0'.repeat(64), arrival_round: 1, tiebreak: '', proof_attempted: status === 'selected',
    proof_passed: status === 'selected' ? true : null, selected: status === 'selected', status, reason: null, reject_stage: null,
  };
}

function windowArchive(window: number, revision: string, env: string, candidates: ArchiveCandidate[]): WindowArchive {
  return {
    archive_schema_version: 3, profile_id: 'sim', window_status: 'completed', window_start: window, validator_hotkey: 'validator',
    randomness: '00'.repeat(32), seal_randomness: '', checkpoint_revision: revision, environments: [env], batch: [],
    difficulty_auction: {
      [env]: { status: 'completed', stop_reason: '', winners: WINNERS, attempts: WINNERS, wall_seconds: 0, debts: { hotkey: {}, operator: {} }, forensics: [], candidates },
    },
    reject_summary: {}, training_quarantine: null, training_accumulator: null, rewards_by_hotkey: {}, burned: 0,
  };
}

/** In-zone share (accepted / submitted) of the frontier miner and of the uniform miners, over `runs`. */
function shares(runs: Map<string, Stats>[]) {
  const t = { f: { g: 0, z: 0, w: 0 }, u: { g: 0, z: 0, w: 0 } };
  for (const run of runs) {
    for (const [hk, s] of run) {
      const x = hk === 'miner-1' ? t.f : t.u;
      x.g += s.groups;
      x.z += s.inZone;
      x.w += s.wins;
    }
  }
  return { frontier: t.f.z / t.f.g, uniform: t.u.z / t.u.g, frontierWins: t.f.w / runs.length, uniformWins: t.u.w / (2 * runs.length) };
}

export { simulate, shares };
const SEEDS = Array.from({ length: 24 }, (_, i) => `d${i}`);

describe('arithPromptFeatures', () => {
  it('parses operator and operand digit counts from the prompt text', () => {
    expect(arithPromptFeatures('47+8=')).toEqual({ op: '+', digitsA: 2, digitsB: 1, key: '2d+1d' });
    expect(arithPromptFeatures('12*34=')?.key).toBe('2d*2d');
    expect(arithPromptFeatures('4-7=')?.key).toBe('1d-1d');
    expect(arithPromptFeatures('what is 2+2?')).toBeNull();
    const env = envArith();
    expect(arithPromptBucket(env.getProblem(8999), env.name)).toBe('arith|4d*3d');
  });
});

describe('simulated devnet market (env-arith, 3 miners, 3 windows of 8 groups): frontier vs uniform', () => {
  it('the frontier miner (own groups only, as the devnet feeds it) has the higher in-zone share', async () => {
    const t0 = performance.now();
    const runs = await Promise.all(SEEDS.map((s) => simulate(s)));
    const r = shares(runs);
    const perSeed = runs.map((run) => shares([run]));
    const beaten = perSeed.filter((x) => x.frontier > x.uniform).length;
    console.log(`[selector-frontier devnet sim] ${SEEDS.length} seeds × 3 windows × 8 groups: in-zone share frontier ${r.frontier.toFixed(3)} vs uniform ${r.uniform.toFixed(3)} (ratio ${(r.frontier / r.uniform).toFixed(2)}); wins per run ${r.frontierWins.toFixed(2)} vs ${r.uniformWins.toFixed(2)}; frontier ahead on ${beaten}/${SEEDS.length} seeds; ${(performance.now() - t0).toFixed(0)} ms`);
    expect(r.frontier).toBeGreaterThan(1.5 * r.uniform);
    expect(beaten).toBeGreaterThanOrEqual(Math.ceil(0.75 * SEEDS.length));
  });

  it('the devnet options (feature bucket, evidence carry) beat the generic defaults (prompt-length bucket, reset per checkpoint)', async () => {
    const [tuned, generic] = await Promise.all([true, false].map(async (devnet) => shares(await Promise.all(SEEDS.map((s) => simulate(s, { devnet }))))));
    console.log(`[selector-frontier devnet sim] frontier in-zone share with the devnet options ${tuned!.frontier.toFixed(3)} vs generic defaults ${generic!.frontier.toFixed(3)} (uniform ${generic!.uniform.toFixed(3)})`);
    expect(tuned!.frontier).toBeGreaterThan(generic!.frontier);
  });

  it('with the public archives in its feed (as the devnet miner host reads them), still ahead', async () => {
    const r = shares(await Promise.all(SEEDS.map((s) => simulate(s, { archives: true }))));
    console.log(`[selector-frontier devnet sim, archives] in-zone share frontier ${r.frontier.toFixed(3)} vs uniform ${r.uniform.toFixed(3)} (ratio ${(r.frontier / r.uniform).toFixed(2)})`);
    expect(r.frontier).toBeGreaterThan(1.5 * r.uniform);
  });

  it('window 0 is informed by prompt shape (the digit-work hint); without it the first window is near uniform', async () => {
    const [hinted, plain] = await Promise.all([DEVNET_FRONTIER, { ...DEVNET_FRONTIER, bucketHint: null }].map(async (frontier) => shares(await Promise.all(SEEDS.map((s) => simulate(s, { windows: 1, frontier }))))));
    console.log(`[selector-frontier devnet sim, window 0] in-zone share frontier ${hinted!.frontier.toFixed(3)} with the hint, ${plain!.frontier.toFixed(3)} without (uniform ${hinted!.uniform.toFixed(3)})`);
    expect(hinted!.frontier).toBeGreaterThan(1.5 * hinted!.uniform);
    expect(hinted!.frontier).toBeGreaterThan(plain!.frontier);
  });

  it('ranked by P(in zone) or by auction value, the frontier miner leads over 5 windows (the two are within noise here)', async () => {
    const [zone, value] = await Promise.all((['zone', 'value'] as const).map(async (objective) => shares(await Promise.all(SEEDS.map((s) => simulate(s, { windows: 5, frontier: { objective } }))))));
    console.log(`[selector-frontier devnet sim, 5 windows] in-zone share frontier ${zone!.frontier.toFixed(3)} by P(zone) vs ${value!.frontier.toFixed(3)} by value (uniform ${zone!.uniform.toFixed(3)})`);
    expect(zone!.frontier).toBeGreaterThan(1.5 * zone!.uniform);
    expect(value!.frontier).toBeGreaterThan(1.5 * value!.uniform);
  });

  it('over more windows the lead holds', async () => {
    const r = shares(await Promise.all(SEEDS.slice(0, 8).map((s) => simulate(s, { windows: 8 }))));
    console.log(`[selector-frontier devnet sim, 8 windows] in-zone share frontier ${r.frontier.toFixed(3)} vs uniform ${r.uniform.toFixed(3)} (ratio ${(r.frontier / r.uniform).toFixed(2)})`);
    expect(r.frontier).toBeGreaterThan(1.5 * r.uniform);
  });
});
