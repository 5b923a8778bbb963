/**
 * The environment set of a node, derived from the environments it registered (design.md "Roles and configs").
 *
 * `environmentSet(base, envs, { tokenizer })` checks the registered environments and merges what they declare into an
 * effective profile: the base profile keeps the protocol constants; `environments` and `environmentMix` become
 * exactly the registered environments, each entry taken from the environment's `spec` (merged over the base entry of
 * the same name, if any), or from the base profile when the environment declares nothing. When the result equals the
 * base (env-arith on the devnet profile), the base object itself is returned, so every byte derived from it stays
 * the same. Refused, with an `EnvironmentSetError` naming the environment:
 *   - two environments with the same name (`duplicate`);
 *   - an environment with no `spec` that the profile does not know (`no_spec`), or an invalid spec (`bad_spec`);
 *   - a prompt the tokenizer cannot encode (`unencodable`: the environment, the split and the problem index), checked
 *     for up to `scanLimit` problems of each split at registration, so it fails there, not in the miner's loop.
 *
 * The `digest` (sha256 over the set's names, sizes, first and last problem ids and entries) is what a validator
 * advertises and a miner compares: two sets with the same names but different problems have different digests.
 *
 * @example
 *   const set = environmentSet(DEVNET, [envArith()], { tokenizer: DEVNET_CHAR_TOKENIZER });
 *   set.profile === DEVNET;  // true: env-arith declares the devnet's arith entry
 *   set.digest;              // 64 hex
 */
import type { Environment, EnvironmentSpec } from '../interfaces/environment.ts';
import type { EnvironmentProfile, Profile } from '../profile/index.ts';
import { hex, utf8 } from '../protocol/codec.ts';
import { sha256 } from '../protocol/hash.ts';
import type { Tokenizer } from '../tokenizer/types.ts';

export type EnvironmentSetProblem = 'duplicate' | 'no_spec' | 'bad_spec' | 'unencodable' | 'empty';

/** A registered environment the node cannot run; `message` names it and says what to change. */
export class EnvironmentSetError extends Error {
  override readonly name = 'EnvironmentSetError';
  constructor(readonly problem: EnvironmentSetProblem, readonly env: string, message: string) {
    super(message);
  }
}

/** One environment of a set, as advertised (`GET /node`). */
export interface EnvironmentSummary {
  readonly name: string;
  readonly size: number;
  readonly mixWeight: number;
  readonly maxNewTokens: number;
  readonly rewardKind: 'binary' | 'fraction';
  readonly answerFormat: 'boxed' | null;
}

export interface EnvironmentSet {
  /** The effective profile (the base one when nothing differs). */
  readonly profile: Profile;
  readonly environments: readonly Environment[];
  readonly summary: readonly EnvironmentSummary[];
  /** sha256 hex of the set (see the module comment). */
  readonly digest: string;
}

export interface EnvironmentSetOptions {
  /** Prompts must encode with it (absent: not checked). */
  readonly tokenizer?: Tokenizer;
  /** Problems per split checked for encodability (default 20 000). */
  readonly scanLimit?: number;
}

const DEFAULT_ENTRY = { bft: null, workerTimeoutSeconds: 5 } as const;

function entryOf(base: Profile, env: Environment): EnvironmentProfile {
  const have = Object.hasOwn(base.environments, env.name) ? base.environments[env.name] : undefined;
  const s: EnvironmentSpec | undefined = env.spec;
  if (!s) {
    if (have) return have;
    throw new EnvironmentSetError('no_spec', env.name,
      `environment "${env.name}" declares no spec and profile ${base.id} has no entry for it; give it a spec { maxNewTokens, rewardKind, mixWeight, maxTruncatedPerGroup, answerFormat } (docs/plugins.md)`);
  }
  const bad = (field: string, why: string): never => {
    throw new EnvironmentSetError('bad_spec', env.name, `environment "${env.name}": spec.${field} ${why}`);
  };
  if (!Number.isSafeInteger(s.maxNewTokens) || s.maxNewTokens < 1) bad('maxNewTokens', `must be an integer ≥ 1, got ${String(s.maxNewTokens)}`);
  if (s.maxNewTokens > base.model.maxContext) bad('maxNewTokens', `(${s.maxNewTokens}) exceeds the model context (${base.model.maxContext})`);
  if (s.rewardKind !== 'binary' && s.rewardKind !== 'fraction') bad('rewardKind', `must be "binary" or "fraction", got ${JSON.stringify(s.rewardKind)}`);
  if (!Number.isSafeInteger(s.mixWeight) || s.mixWeight < 1) bad('mixWeight', `must be an integer ≥ 1, got ${String(s.mixWeight)}`);
  if (!Number.isSafeInteger(s.maxTruncatedPerGroup) || s.maxTruncatedPerGroup < 0) bad('maxTruncatedPerGroup', `must be an integer ≥ 0, got ${String(s.maxTruncatedPerGroup)}`);
  if (s.answerFormat !== 'boxed' && s.answerFormat !== null) bad('answerFormat', `must be "boxed" or null, got ${JSON.stringify(s.answerFormat)}`);
  const timeout = s.workerTimeoutSeconds ?? have?.workerTimeoutSeconds ?? DEFAULT_ENTRY.workerTimeoutSeconds;
  if (!(Number.isFinite(timeout) && timeout > 0)) bad('workerTimeoutSeconds', `must be a positive number, got ${String(timeout)}`);
  return {
    ...DEFAULT_ENTRY, ...have,
    maxNewTokens: s.maxNewTokens, answerFormat: s.answerFormat, maxTruncatedPerGroup: s.maxTruncatedPerGroup,
    workerTimeoutSeconds: timeout, batchGroups: s.mixWeight, rewardKind: s.rewardKind,
  };
}

function checkPrompts(env: Environment, split: Environment, label: string, tokenizer: Tokenizer, limit: number): void {
  const n = Math.min(split.size, limit);
  for (let i = 0; i < n; i++) {
    let prompt: string;
    try {
      prompt = split.getProblem(i).prompt;
    } catch (e) {
      throw new EnvironmentSetError('unencodable', env.name, `environment "${env.name}": ${label}problem ${i} cannot be built: ${e instanceof Error ? e.message : String(e)}`);
    }
    try {
      const ids = tokenizer.encode(prompt);
      if (ids.length === 0) throw new Error('it encodes to no tokens');
    } catch (e) {
      throw new EnvironmentSetError('unencodable', env.name,
        `environment "${env.name}": the prompt of ${label}problem ${i} (${JSON.stringify(prompt.slice(0, 40))}) cannot be encoded by tokenizer ${tokenizer.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** JSON with object keys sorted (key order never makes two sets differ). */
function canon(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canon).join(',')}]`;
  if (typeof x === 'object' && x !== null) return `{${Object.keys(x).sort().map((k) => `${JSON.stringify(k)}:${canon((x as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(x) ?? 'null';
}
const sameJson = (a: unknown, b: unknown): boolean => canon(a) === canon(b);

/** Derives and checks the environment set of `envs` over `base` (see the module comment). */
export function environmentSet(base: Profile, envs: readonly Environment[], o: EnvironmentSetOptions = {}): EnvironmentSet {
  if (envs.length === 0) throw new EnvironmentSetError('empty', '', 'no environment is registered; register at least one environment plugin (e.g. env-arith, or --env MODULE)');
  const seen = new Set<string>();
  const environments: Record<string, EnvironmentProfile> = {};
  const mix: [string, number][] = [];
  const baseMix = new Map(base.environmentMix.map(([n, w]) => [n, w] as const));
  for (const env of envs) {
    if (typeof env.name !== 'string' || env.name === '') throw new EnvironmentSetError('bad_spec', String(env.name), 'an environment has no name');
    if (seen.has(env.name)) throw new EnvironmentSetError('duplicate', env.name, `two environments are named "${env.name}"; give one another name (its plugin's \`name\` option)`);
    seen.add(env.name);
    environments[env.name] = entryOf(base, env);
    mix.push([env.name, env.spec?.mixWeight ?? baseMix.get(env.name) ?? environments[env.name]!.batchGroups]);
    if (o.tokenizer) {
      checkPrompts(env, env, '', o.tokenizer, o.scanLimit ?? 20_000);
      if (env.heldOut) checkPrompts(env, env.heldOut, 'held-out ', o.tokenizer, o.scanLimit ?? 20_000);
    }
  }
  const same = sameJson(environments, base.environments) && sameJson(mix, base.environmentMix);
  const profile: Profile = same ? base : Object.freeze({ ...base, environments: Object.freeze(environments), environmentMix: Object.freeze(mix.map((m) => Object.freeze(m))) }) as Profile;
  const summary = envs.map((e) => ({
    name: e.name, size: e.size, mixWeight: mix.find(([n]) => n === e.name)![1], maxNewTokens: environments[e.name]!.maxNewTokens,
    rewardKind: environments[e.name]!.rewardKind, answerFormat: environments[e.name]!.answerFormat,
  }));
  const material = envs.map((e) => ({
    name: e.name, size: e.size, first: e.getProblem(0).id, last: e.getProblem(e.size - 1).id, entry: environments[e.name], mix: mix.find(([n]) => n === e.name)![1],
  })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { profile, environments: envs, summary, digest: hex(sha256(utf8(canon(material)))) };
}

/** How two advertised sets differ, in one line (null when they are the same). */
export function environmentSetDifference(validator: readonly EnvironmentSummary[], miner: readonly EnvironmentSummary[]): string | null {
  const v = new Map(validator.map((e) => [e.name, e]));
  const m = new Map(miner.map((e) => [e.name, e]));
  const missing = [...v.keys()].filter((n) => !m.has(n));
  const extra = [...m.keys()].filter((n) => !v.has(n));
  const parts: string[] = [];
  if (missing.length) parts.push(`the validator runs ${missing.map((n) => `"${n}"`).join(', ')}, which this miner does not have (add it with --env or the config)`);
  if (extra.length) parts.push(`this miner has ${extra.map((n) => `"${n}"`).join(', ')}, which the validator does not run (remove it)`);
  for (const [n, a] of v) {
    const b = m.get(n);
    if (b && !sameJson(a, b)) parts.push(`"${n}" differs (validator ${JSON.stringify(a)}, miner ${JSON.stringify(b)})`);
  }
  return parts.length ? parts.join('; ') : null;
}
