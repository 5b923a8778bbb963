/**
 * The pure per-window checks of the audit (audit.ts runs them in order and adds the model-dependent ones):
 * the miner signatures and registrations of every bundled group, the validator's rewards re-graded, and the
 * trained batch against the bundled groups. Each returns the failures it found (empty: the check holds).
 *
 * @example
 *   const bad = minerSignatureFailures(bundle, profile);  // ['group 3f2a…: BAD_SIGNATURE …']
 */
import type { Environment } from '../interfaces/environment.ts';
import { safeRewardAsync } from '../interfaces/environment.ts';
import { verifyPrecommit } from '../market/admission.ts';
import { rolloutHash } from '../market/cooldown.ts';
import type { Profile } from '../profile/index.ts';
import { authenticateSubmission } from '../protocol/admission.ts';
import type { ParsedSubmission } from '../protocol/wire.ts';
import type { BundleGroup, WindowBundle } from './bundle.ts';
import type { ProverGroup } from '../validator/prover.ts';

const short = (id: string): string => id.slice(0, 10);

/** A bundled group's body, authenticated (envelope and commit signatures, schema), or why not. */
export function parseGroupBody(g: BundleGroup, profile: Profile, randomness: string): { ok: true; sub: ParsedSubmission } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(g.body);
  } catch (e) {
    return { ok: false, error: `body is not JSON (${e instanceof Error ? e.message : String(e)})` };
  }
  const auth = authenticateSubmission(raw, { profile, randomness });
  if (!auth.ok) return { ok: false, error: `${auth.rejection.reason}: ${auth.rejection.message}` };
  return { ok: true, sub: auth.value };
}

/** The prover's view of an authenticated body. */
export function proverGroupOf(env: string, sub: ParsedSubmission): ProverGroup {
  return {
    env, promptIdx: sub.prompt_idx, hotkey: sub.miner_hotkey,
    rollouts: sub.rollouts.map((ro) => ({
      tokens: ro.tokens, promptLength: ro.commit.rollout.prompt_length, commitments: ro.commit.commitments,
      tokenLogprobs: ro.commit.rollout.token_logprobs, forced: ro.commit.rollout.forced,
    })),
  };
}

/** Envelope, commit and precommit signatures of every group, and the body bound to the group's recorded identity. */
export function minerSignatureFailures(b: WindowBundle, profile: Profile): string[] {
  const bad: string[] = [];
  for (const g of b.groups) {
    const p = parseGroupBody(g, profile, b.randomness);
    if (!p.ok) {
      bad.push(`group ${short(g.id)} (${short(g.hotkey)}): ${p.error}`);
      continue;
    }
    const s = p.sub;
    if (!verifyPrecommit(g.request, b.randomness, profile)) bad.push(`group ${short(g.id)}: precommit signature does not verify`);
    if (s.miner_hotkey !== g.hotkey || g.request.miner_hotkey !== g.hotkey) bad.push(`group ${short(g.id)}: body signed by ${short(s.miner_hotkey)}, recorded for ${short(g.hotkey)}`);
    if (s.merkle_root !== g.merkle_root || g.request.merkle_root !== g.merkle_root) bad.push(`group ${short(g.id)}: merkle root differs from the signed precommit`);
    if (s.prompt_idx !== g.prompt_idx || s.window_start !== b.window) bad.push(`group ${short(g.id)}: prompt or window differs from the record`);
    const hashes = s.rollouts.map((r) => rolloutHash(r.tokens));
    if (hashes.length !== g.rollout_hashes.length || hashes.some((h, i) => h !== g.rollout_hashes[i])) bad.push(`group ${short(g.id)}: token ids do not hash to the recorded rollout hashes`);
  }
  return bad;
}

/** Hotkeys of the groups that are not in the registry. */
export function registrationFailures(b: WindowBundle, registered: ReadonlySet<string>): string[] {
  return [...new Set(b.groups.map((g) => g.hotkey))].filter((h) => !registered.has(h)).map((h) => `hotkey ${h} is not registered`);
}

/** Every group's rewards re-graded by the environment (the validator's grading, spec/market.md §8). */
export async function rewardFailures(b: WindowBundle, profile: Profile, envs: Readonly<Record<string, Environment>>, decode: (ids: readonly number[]) => string): Promise<string[]> {
  const bad: string[] = [];
  for (const g of b.groups) {
    const env = envs[g.env];
    const p = parseGroupBody(g, profile, b.randomness);
    if (!env || !p.ok) {
      if (!env) bad.push(`group ${short(g.id)}: environment ${g.env} is not available to re-grade`);
      continue;
    }
    const problem = env.getProblem(g.prompt_idx);
    for (const [i, ro] of p.sub.rollouts.entries()) {
      const r = await safeRewardAsync(env, problem, decode(ro.tokens.slice(ro.commit.rollout.prompt_length)));
      if (r !== g.rewards[i]) bad.push(`group ${short(g.id)} rollout ${i}: recorded reward ${g.rewards[i]}, re-graded ${r}`);
    }
  }
  return bad;
}

/** Signed groups by their rollout-hash sequence: the rewards and prompt lengths the validator recorded. */
export type KnownGroups = Map<string, { readonly rewards: readonly number[]; readonly promptLens: readonly number[]; readonly piOld: readonly string[] | null }>;

/** Every trained group is a bundled (signed) group, rollout for rollout: same tokens, prompt length, reward and π_old. */
export function batchFailures(b: WindowBundle, known: KnownGroups): string[] {
  const bad: string[] = [];
  if (!b.batch) return bad;
  for (const e of b.batch.envs) {
    for (const [gi, g] of e.groups.entries()) {
      const k = known.get(g.map((r) => rolloutHash(r.tokens)).join(','));
      if (!k) {
        bad.push(`${e.name} group ${gi}: its token ids are not those of any bundled (signed) group`);
        continue;
      }
      for (const [ri, r] of g.entries()) {
        if (k.rewards[ri] !== r.reward) bad.push(`${e.name} group ${gi} rollout ${ri}: trained reward ${r.reward}, the group's is ${k.rewards[ri]}`);
        if (k.promptLens[ri] !== r.promptLen) bad.push(`${e.name} group ${gi} rollout ${ri}: prompt length ${r.promptLen}, signed ${k.promptLens[ri]}`);
        if ((r.piOld ?? null) !== (k.piOld?.[ri] ?? null)) bad.push(`${e.name} group ${gi} rollout ${ri}: trained π_old is not the group's recomputed π_old`);
      }
    }
  }
  return bad;
}

/** Adds a bundle's authenticated groups to `known` (the batch check's reference; a batch may hold earlier windows' groups). */
export function learnGroups(b: WindowBundle, profile: Profile, known: KnownGroups): void {
  for (const g of b.groups) {
    const p = parseGroupBody(g, profile, b.randomness);
    if (!p.ok) continue;
    known.set(p.sub.rollouts.map((ro) => rolloutHash(ro.tokens)).join(','), { rewards: g.rewards, promptLens: p.sub.rollouts.map((ro) => ro.commit.rollout.prompt_length), piOld: Array.isArray(g.pi_old) ? g.pi_old : null });
  }
}
