/**
 * The market arm of the experiment (issue 13): K competing miners with learning selectors, one in-process
 * `MarketValidator` (core/market/validator-service.ts) on a fill-closed profile (core/market/fill.ts) with windows
 * of N = B groups, the validator's real prover (core/validator/prover.ts `createProver`), and one GRPO step per
 * window on the sealed winners — the devnet's code path without HTTP, processes or a wall clock.
 *
 * Per window w (= step s):
 *   open        window randomness sha256("reliquary/experiment/window|" ‖ seed ‖ "|" ‖ w), the registry of the K
 *               hotkeys (one coldkey each), the checkpoint the trainer holds now
 *   race        every miner asks its selector for up to its quota of picks (the validator's /state cooldowns and the
 *               public archives so far as its feed), then the miners generate in parallel on a simulated clock: the
 *               miner free soonest generates its next pick (forced-seed stream bound to its hotkey), grades it,
 *               commits, signs the precommit with the drand round of its finish time, precommits and reveals;
 *               a group costs 0.05 s + 2 ms per completion token of simulated time
 *   close       after every reveal the validator's `sealPoll` runs; the window closes when it is filled (N valid,
 *               distinct, in-zone groups) — or on its deadline when the miners run out of picks
 *   seal        freeze → seal (fill order, proofs with createProver on the current weights, payout, cooldowns, archive)
 *   train       one GRPO step on the winners' groups (π_old = the miners' sampling log-probs)
 * Compute counted for the arm: every group any miner generated in the window, submitted or not.
 *
 * @example
 *   const run = await runArm('market', opts, trainer, marketGatherer(opts, { selector: (i, hotkey) => selectorFrontier({ … }) }));
 */
import type { RegistrySnapshot } from '../interfaces/chain.ts';
import type { Selector, StateSnapshot } from '../interfaces/selector.ts';
import type { WindowArchive } from '../market/archive.ts';
import { emptyAccumulator } from '../market/accumulator.ts';
import { emptyContentCooldown, emptyIndexCooldown, emptyRolloutHashes } from '../market/cooldown.ts';
import { MarketValidator } from '../market/validator-service.ts';
import { meanStd, passesSigmaGate, sigmaFloor } from '../market/zone.ts';
import { commitGroup, finaliseSubmission, gradeGroup, gradingText, preflightGroup, type GeneratedRollout } from '../miner/submission.ts';
import { generateRollouts } from '../model/generate.ts';
import { hex, utf8 } from '../protocol/codec.ts';
import { sha256 } from '../protocol/hash.ts';
import { signerFromSeed, type Signer } from '../protocol/sr25519.ts';
import { createProver } from '../validator/prover.ts';
import type { ArmOptions, GatheredGroup, StepGatherer } from './arm.ts';

/** A selector per miner (the host injects the plugin: core imports no plugin). */
export interface MarketArmDeps {
  readonly selector: (minerIndex: number, hotkey: string, seed: string) => Selector;
}

const T0 = 1_700_000_000;
/** Simulated drand: a round every 3 s from T0. */
const roundAt = (t: number): number => 1000 + Math.floor((t - T0) / 3);
const h = (s: string): string => hex(sha256(utf8(s)));

interface Pending {
  readonly group: GatheredGroup;
  readonly merkleRoot: string;
}

/** The market arm's step gatherer (see the header); the validator and miners live for the whole run. */
export function marketGatherer(o: ArmOptions, deps: MarketArmDeps): StepGatherer {
  const p = o.profile;
  const env = o.env;
  const K = o.miners ?? 3;
  const signers: Signer[] = Array.from({ length: K }, (_, i) => signerFromSeed(sha256(utf8(`reliquary/experiment/miner|${o.seed}|${i}`))));
  const validatorKey = signerFromSeed(sha256(utf8(`reliquary/experiment/validator|${o.seed}`)));
  const selectors = signers.map((s, i) => deps.selector(i, s.ss58, `${o.seed}|miner-${i}`));
  const registry: RegistrySnapshot = { takenAt: T0, neurons: signers.map((s, i) => ({ uid: i + 1, hotkey: s.ss58, coldkey: `cold-${i}` })) };
  let now = T0;
  let receipts = 0;
  const v = new MarketValidator({
    profile: p, envs: { [env.name]: env }, tokenizer: o.tokenizer, clock: () => now, roundAt,
    market: {
      indexCooldown: emptyIndexCooldown(`experiment-${o.seed}`, p.cooldown.indexWindows),
      contentCooldown: emptyContentCooldown(p.cooldown.indexWindows),
      rolloutHashes: emptyRolloutHashes(p.cooldown.rolloutHashWindows),
      accumulator: emptyAccumulator(Object.fromEntries(p.environmentMix)),
    },
    randomBytes: (n) => sha256(utf8(`receipt ${o.seed} ${receipts++}`)).slice(0, n),
  });
  const archives: WindowArchive[] = [];
  const decodeToken = (id: number): string => o.tokenizer.decode([id]);

  return async (s, model, trainer) => {
    const randomness = h(`reliquary/experiment/window|${o.seed}|${s}`);
    const sealRandomness = h(`reliquary/experiment/seal|${o.seed}|${s}`);
    const openedAt = now;
    v.open({ now, openRound: roundAt(now), randomness, registry });
    const st = v.state(env.name);
    const cooled = st.ok ? [...st.value.cooldown_prompts] : [];
    const state: StateSnapshot = { window: s, randomness, checkpointN: s, cooldowns: { [env.name]: cooled } };
    const quota = p.quotas.precommitsPerHotkey;
    const picks = await Promise.all(selectors.map(async (sel, i) =>
      [...(await sel.pick({ state, environments: [env], mix: p.environmentMix, count: quota, feed: { verdicts: v.verdicts(signers[i]!.ss58, 0), archives: archives.slice(-8) } }))]));
    const busy = signers.map(() => now);
    const generated: GatheredGroup[] = [];
    const byRoot = new Map<string, Pending>();
    const floor = sigmaFloor(p, trainer.state.scheduleStep);
    let trigger = '';
    for (;;) {
      let i = -1;
      for (let k = 0; k < K; k++) if (picks[k]!.length > 0 && (i < 0 || busy[k]! < busy[i]!)) i = k;
      if (i < 0) break; // every miner out of picks: the deadline closes the window
      const pick = picks[i]!.shift()!;
      const by = signers[i]!;
      const problem = env.getProblem(pick.promptIdx);
      const out = await generateRollouts(model, {
        prompt: o.tokenizer.encode(problem.prompt), profile: p, rollouts: o.rollouts, maxNewTokens: o.maxNewTokens, eosTokenIds: o.tokenizer.eosTokenIds,
        stream: { randomness, promptIdx: pick.promptIdx, checkpointHash: '', hotkey: by.ss58 },
      });
      const tokens = out.reduce((a, r) => a + r.completionLength, 0);
      busy[i] = busy[i]! + 0.05 + 0.002 * tokens;
      now = Math.max(now, busy[i]!);
      const rollouts: GeneratedRollout[] = out.map((r) => ({ tokens: r.tokens, promptLength: r.promptLength, logprobs: r.logprobs, commitments: r.commitments, truncated: r.truncated }));
      const rewards = gradeGroup(env, problem, rollouts, (r) => gradingText(o.tokenizer, r));
      const group: GatheredGroup = {
        promptIdx: pick.promptIdx, rewards: [...rewards], tokens, truncated: out.filter((r) => r.truncated).length,
        inZone: passesSigmaGate(meanStd(rewards).std, floor, p.zone.sigmaEpsilon),
        rollouts: out.map((r, m) => ({ tokens: r.tokens, promptLen: r.promptLength, reward: rewards[m]!, logpOld: r.logprobs })),
      };
      generated.push(group);
      o.onProgress?.({ step: s, steps: o.steps, phase: 'generate', detail: `window ${s}: ${generated.length} groups generated, pool ${v.currentBook?.pool.get(env.name)?.length ?? 0}/${o.groups}` });
      if (preflightGroup(p, env.name, rollouts)) continue;
      const committed = commitGroup(p, by, { env: env.name, promptIdx: pick.promptIdx, windowStart: s, randomness, checkpointHash: '' }, rollouts, rewards);
      const signed = finaliseSubmission(p, by, committed, { drandRound: roundAt(now), nonce: h(`nonce ${o.seed} ${s} ${by.ss58} ${pick.promptIdx}`).slice(0, 32) });
      const pre = v.precommit(signed.precommit, now);
      if (pre.ok) {
        const sub = v.submit({ receiptId: pre.receipt.receiptId, body: signed.bytes, contentLength: signed.bytes.length, arrivalTs: now, completedTs: now });
        if (sub.ok) byRoot.set(committed.merkleRoot, { group, merkleRoot: committed.merkleRoot });
        await v.idle();
      }
      selectors[i]!.observe?.({ kind: 'submitted', window: s, env: env.name, promptIdx: pick.promptIdx, merkleRoot: committed.merkleRoot, rewards });
      const d = v.sealPoll(now);
      if (d.action === 'seal') {
        trigger = d.trigger;
        break;
      }
    }
    if (!trigger) {
      now = Math.max(now, openedAt + p.window.collectionSeconds + p.window.uploadGraceSeconds);
      const d = v.sealPoll(now);
      trigger = d.action === 'seal' ? d.trigger : 'deadline';
    }
    await v.idle();
    const pool = Object.values(v.freeze(now)).reduce((a, e) => a + e.length, 0);
    const prove = createProver({ model, profile: p, randomness, sealRandomness, checkpointHash: '', decodeToken });
    const r = await v.seal({ prove, signer: validatorKey, sealRandomness });
    const winners = r.outcomes.flatMap((x) => x.winners.map((w) => w.id));
    const entries = new Map(v.currentBook!.allPool().map((e) => [e.id, e]));
    const trained = winners.map((id) => byRoot.get(entries.get(id)!.merkleRoot)!.group);
    const failed = r.finals.filter((f) => f.reason !== null).length;
    v.resetAccumulator();
    v.archived();
    archives.push(r.archive);
    for (const sel of selectors) {
      sel.observe?.({ kind: 'archive', archive: r.archive });
      sel.observe?.({ kind: 'checkpoint', checkpointN: s + 1 });
    }
    now += 1;
    return { generated, trained, note: `${trigger} at ${(now - 1 - openedAt).toFixed(1)} s, pool ${pool}, ${r.status}, ${trained.length} paid${failed ? `, ${failed} proof(s) failed` : ''}` };
  };
}
