/**
 * End to end on the market (issue 11): one window of a MarketValidator on DEVNET (proof v2) with env-arith and the
 * shipped tiny model, three honest miners and one cheater of every forgery class of bench/proof/attacks.ts, each
 * a registered hotkey of its own coldkey, every group signed by its sender and sent through the real precommit →
 * reveal → worker path (signatures, prompt binding, reward recomputation, zone), then sealed with the real prover
 * (core/validator/prover.ts `createProver` on the tiny model, wasm). The cheaters get nothing; the honest miners
 * are paid.
 *
 * Each cheater's group is drawn (the attack's draw index searched) so that it matters: in zone (so admission lets
 * it through to the auction) and, except for the forged-sketch rows, with tokens that differ from the honest
 * replay of its (prompt, hotkey, window) — a group equal to the honest one would be honest work. The stale-
 * checkpoint cheater generates on a checkpoint one GRPO step away from the announced one (here the window
 * announces the shipped weights, and the step is taken from them: bench/proof/attacks.ts `AttackLab.fixedWindow`).
 * prompt-mismatch is refused at admission (PROMPT_MISMATCH); the random-init model (reseeded-model) produces
 * junk that never reaches the zone, so it is sent anyway and refused at admission; every other cheater passes
 * admission and is refused by the prover.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComputeBackend } from '../../core/compute/backend.ts';
import type { RegistrySnapshot } from '../../core/interfaces/chain.ts';
import { MarketValidator } from '../../core/market/validator-service.ts';
import { sigmaFloor, valueGroup } from '../../core/market/zone.ts';
import { commitGroup, finaliseSubmission, type GeneratedRollout } from '../../core/miner/submission.ts';
import { DEVNET } from '../../core/profile/index.ts';
import { Reason } from '../../core/protocol/reasons.ts';
import type { Signer } from '../../core/protocol/sr25519.ts';
import { DEVNET_CHAR_TOKENIZER } from '../../core/tokenizer/char.ts';
import { createProver } from '../../core/validator/prover.ts';
import { createNodeWasmBackend } from '../../kernels/wasm/node.ts';
import { AttackLab, ATTACKS } from '../../bench/proof/attacks.ts';
import { ARITH, decodeToken, ENV_NAME, hexOf, honestGroup, loadTiny, marketPrompt, sameTokens, type BenchGroup, type BenchWindow } from '../../bench/proof/setup.ts';
import { emptyMarket, lastReason, RANDOMNESS, ROUND, roundAt, signer, T0, VALIDATOR, WINDOW } from '../market/market-fixture.ts';

const P = DEVNET;
const SEAL = hexOf('market seal');
const W: BenchWindow = { randomness: RANDOMNESS, checkpointHash: '', sealRandomness: SEAL };
const HONEST = ['h1', 'h2', 'h3'].map((n) => signer(`proof market ${n}`));
const CLASSES = ATTACKS.slice(1);
const CHEATERS = new Map(CLASSES.map((a) => [a.name, signer(`proof market cheater ${a.name}`)] as const));
/** Rows whose tokens are the honest ones by construction (only the sketch is forged) or refused before the prover. */
const SAME_TOKENS_ALLOWED = new Set(['constant-sketch', 'random-sketch', 'copied-sketch', 'prompt-mismatch']);

let be: ComputeBackend;
let lab: AttackLab;

beforeAll(async () => {
  be = await createNodeWasmBackend();
  lab = AttackLab.open({ profile: P, producer: be, verifier: be, tiny: await loadTiny() });
  lab.fixedWindow = W;
});
afterAll(() => {
  lab?.close();
  be?.destroy();
});

function registry(): RegistrySnapshot {
  const all = [...HONEST, ...CHEATERS.values()];
  return { takenAt: T0, neurons: all.map((s, i) => ({ uid: i + 1, hotkey: s.ss58, coldkey: `cold-${i}` })) };
}

/** In zone with every rollout ended by an EOS (a truncated one is valued on the reward lattice: left out here). */
function inZone(g: BenchGroup): boolean {
  const eos = new Set(P.model.eosTokenIds);
  if (!g.rollouts.every((r) => eos.has(r.tokens[r.tokens.length - 1]!))) return false;
  return valueGroup({ rewards: g.rollouts.map((r) => r.reward) }, P.zone, sigmaFloor(P, WINDOW)).ok;
}

/** Precommits and reveals `g` signed by `by` at T0 + 1; returns the admission verdict's reason. */
async function send(v: MarketValidator, by: Signer, g: BenchGroup): Promise<string | undefined> {
  const eos = new Set(P.model.eosTokenIds);
  const rollouts: GeneratedRollout[] = g.rollouts.map((r) => ({
    tokens: r.tokens, promptLength: r.promptLength, logprobs: r.logprobs, commitments: r.commitments, truncated: !eos.has(r.tokens[r.tokens.length - 1]!),
  }));
  const committed = commitGroup(P, by, { env: ENV_NAME, promptIdx: g.promptIdx, windowStart: WINDOW, randomness: W.randomness, checkpointHash: '' }, rollouts, g.rollouts.map((r) => r.reward));
  const signed = finaliseSubmission(P, by, committed, { drandRound: roundAt(T0 + 1), nonce: hexOf(`nonce ${by.ss58}`).slice(0, 32) });
  const pre = v.precommit(signed.precommit, T0 + 1);
  if (!pre.ok) throw new Error(`precommit refused: ${pre.rejection.reason} ${pre.rejection.message}`);
  const sub = v.submit({ receiptId: pre.receipt.receiptId, body: signed.bytes, contentLength: signed.bytes.length, arrivalTs: T0 + 2, completedTs: T0 + 2 });
  if (!sub.ok) throw new Error(`reveal refused: ${sub.rejection.reason} ${sub.rejection.message}`);
  await v.idle();
  return lastReason(v, by);
}

describe('a market window with a cheater of every forgery class (proof v2, real prover)', () => {
  it('pays the honest miners and none of the cheaters', async () => {
    const v = new MarketValidator({
      profile: P, envs: { [ENV_NAME]: ARITH }, tokenizer: DEVNET_CHAR_TOKENIZER, clock: () => T0, roundAt,
      market: emptyMarket(P), nextWindow: WINDOW,
    });
    v.open({ now: T0, openRound: ROUND, randomness: RANDOMNESS, registry: registry() });

    const verdicts = new Map<string, string | undefined>();
    for (const [n, h] of HONEST.entries()) {
      let g: BenchGroup | null = null;
      for (let i = 3 + 9 * n; !g && i < 200; i++) {
        const c = await honestGroup(lab.current, marketPrompt(i), h.ss58, W, P);
        if (inZone(c)) g = c;
      }
      verdicts.set(h.ss58, await send(v, h, g!));
    }
    lab.victim = HONEST[0]!.ss58;
    const outOfZone = new Set<string>();
    for (const [k, attack] of CLASSES.entries()) {
      const by = CHEATERS.get(attack.name)!;
      lab.cheater = by.ss58;
      let pick: BenchGroup | null = null;
      let first: BenchGroup | null = null;
      for (let i = 20 * k; !pick && i < 20 * k + 60; i++) {
        const f = await attack.forge(lab, i);
        if (!f) continue;
        first ??= f.group;
        if (attack.name !== 'prompt-mismatch' && !inZone(f.group)) continue;
        if (!SAME_TOKENS_ALLOWED.has(attack.name) && sameTokens(f.group, await honestGroup(lab.validator, f.group.promptIdx, by.ss58, W, P))) continue;
        pick = f.group;
      }
      if (!pick) outOfZone.add(attack.name); // no draw reaches the zone (the random-init model's junk): sent anyway
      verdicts.set(by.ss58, await send(v, by, pick ?? first!));
    }
    // Only a model with nothing learnt cannot reach the zone; every other class is a real competitor.
    expect([...outOfZone]).toEqual(outOfZone.size ? ['reseeded-model'] : []);

    for (const h of HONEST) expect(verdicts.get(h.ss58)).toBe(Reason.ACCEPTED);
    for (const [name, by] of CHEATERS) {
      if (outOfZone.has(name)) expect(verdicts.get(by.ss58), name).not.toBe(Reason.ACCEPTED);
      else expect(verdicts.get(by.ss58), name).toBe(name === 'prompt-mismatch' ? Reason.PROMPT_MISMATCH : Reason.ACCEPTED);
    }

    v.freeze(T0 + P.window.collectionSeconds);
    const prove = createProver({ model: lab.validator, profile: P, randomness: RANDOMNESS, sealRandomness: SEAL, checkpointHash: '', decodeToken });
    const r = await v.seal({ prove, signer: VALIDATOR, sealRandomness: SEAL });
    expect(r.status).toBe('completed');
    const paid = r.payout!.rewardsByHotkey;
    for (const h of HONEST) expect(paid[h.ss58] ?? 0, 'honest miner paid').toBeGreaterThan(0);
    for (const [name, by] of CHEATERS) {
      expect(paid[by.ss58] ?? 0, `${name} paid`).toBe(0);
      const final = r.finals.find((f) => f.hotkey === by.ss58);
      if (name !== 'prompt-mismatch' && !outOfZone.has(name)) expect(final?.reason, `${name}: refused by the prover`).not.toBeNull();
    }
  });
});
