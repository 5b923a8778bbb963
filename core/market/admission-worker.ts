/**
 * Admission stages C–F of spec/market.md §2 for one revealed group; the first failure is the verdict.
 *
 * C. `gradeReveal` (the worker; pure over the bytes): a bounded parse (`parseRevealBody`: size, nesting depth and
 *    value count within the profile's reveal bounds, then JSON; BAD_SCHEMA) — or `gradeRevealJson` on a value
 *    that the injected `parseReveal` seam parsed, e.g. off the event loop — then strict schema and exactly M rollouts (BAD_SCHEMA) → routing
 *    fields equal the receipt and every rollout's env is the receipt's (PRECOMMIT_INVALID) → the authentication of
 *    `authenticateSubmission` (envelope, per-rollout commit checks, randomness, in-group duplicates, termination) →
 *    prompt binding `tokens[:P] == encode(prompt)` (PROMPT_MISMATCH) → [`gradeRevealJsonAsync`, what the market
 *    runs: the environment's `computeRewardAsync` awaited on every completion] → rewards: recomputed and compared within
 *    the tolerance for binary (math-like) envs, overwritten for fractional (code-like) ones; a grader exception or
 *    non-finite value is REWARD_MISMATCH, a grader outage WORKER_DROPPED (validator side: quota refunded, no claim)
 *    → zone by the robust valuation (OUT_OF_ZONE) → malformed final box on a failing rollout of a boxed env
 *    (MALFORMED_FINAL_ANSWER, injected detector) → near-clone detector (DISTRIBUTION_SUSPICIOUS, injected) →
 *    `prompt_content_sha256`.
 * D–F. `commitReveal` (main process, on the book): D identity, run even when C rejected as long as the group was
 *    authenticated (so a rejected group still spends its claim): window → checkpoint → protocol → profile → index
 *    bound → range → index cooldown → PROMPT_FULL → cross-window rollout hashes (HASH_DUPLICATE) → one claim per
 *    (operator, prompt): unmapped operator REGISTRATION_UNAVAILABLE, claim held HASH_DUPLICATE. E start: sealed,
 *    hotkey or operator debt, or gradings used up → BATCH_FILLED. F commit: re-check sealed, PROMPT_FULL and the
 *    hash set, append to the pool → ACCEPTED.
 *
 * @example
 *   const graded = gradeReveal(receipt, bytes, book.ctx, deps);
 *   const verdict = commitReveal(book, deps.profile, receipt, graded, now);
 */
import type { Environment, Problem } from '../interfaces/environment.ts';
import type { Profile } from '../profile/index.ts';
import { authenticateSubmission } from '../protocol/admission.ts';
import { hex, utf8 } from '../protocol/codec.ts';
import { sha256 } from '../protocol/hash.ts';
import { promptRange } from '../protocol/randomness.ts';
import { Reason, reject, type Rejection } from '../protocol/reasons.ts';
import { parseRevealBody, type RevealParser } from '../protocol/reveal-body.ts';
import { parseSubmissionRequest, type BatchSubmissionRequest, type ParsedSubmission } from '../protocol/wire.ts';
import { AdmissionBook, type PoolEntry, type Receipt, type WindowContext } from './book.ts';
import { rolloutHash } from './cooldown.ts';
import { hasAnyBox, rewardLattice, sigmaFloor, uncertainIndices, valueGroup } from './zone.ts';

/** Thrown by a grader that cannot grade at all (sandbox down): the validator's fault, refunded. */
export class GraderOutage extends Error {
  override readonly name = 'GraderOutage';
}

/** One grading: a reward in [0, 1], or why there is none. */
export type Grade = { readonly ok: true; readonly reward: number } | { readonly ok: false; readonly fault: 'exception' | 'outage'; readonly detail: string };

/** Grades one completion: `env.computeReward`, a `GraderOutage` → outage, any other throw or a non-finite value → exception. */
export function gradeCompletion(env: Environment, problem: Problem, completionText: string): Grade {
  let r: unknown;
  try {
    r = env.computeReward(problem, completionText);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    return { ok: false, fault: e instanceof GraderOutage ? 'outage' : 'exception', detail };
  }
  if (typeof r !== 'number' || !Number.isFinite(r) || r < 0 || r > 1) return { ok: false, fault: 'exception', detail: `reward ${String(r)} is not in [0, 1]` };
  return { ok: true, reward: r };
}

/** What the worker needs: the profile, environments, the tokenizer that defines canonical prompts, and detectors. */
export interface WorkerDeps {
  readonly profile: Profile;
  readonly envs: Readonly<Record<string, Environment>>;
  /** Raw encoding of prompt text (no special tokens) and grading text of completions. */
  readonly tokenizer: { encode(text: string): number[]; decode(ids: readonly number[]): string };
  /** Default `gradeCompletion`. */
  readonly grade?: (env: Environment, problem: Problem, completionText: string) => Grade;
  /** Malformed final box on a failing rollout (plugins/env-math `isMalformedFinalAnswer`); boxed envs only. */
  readonly malformedFinalAnswer?: (completionText: string, reward: number) => boolean;
  /** Opposite-reward near-clone detector (market §2 C); none by default. */
  readonly distributionSuspicious?: (group: { readonly tokens: readonly (readonly number[])[]; readonly rewards: readonly number[] }) => Rejection | null;
  /**
   * Parses a revealed body within the profile's reveal bounds (core/protocol/reveal-body.ts). Default: the
   * in-process `parseRevealBody`; a host may run it off the event loop with a time budget
   * (hosts/node/reveal-parser-pool.ts). A rejection is the verdict (BAD_SCHEMA).
   */
  readonly parseReveal?: RevealParser;
}

/** A group that passed C, before identity and commit. */
export type GradedGroup = Omit<PoolEntry, 'operator' | 'acceptedTs' | 'arrivalRound' | 'precommitTs' | 'receiptId'>;

/** The worker's answer. `request` is set once the schema passed; `authenticated` once signatures verified. */
export interface GradeResult {
  readonly request: BatchSubmissionRequest | null;
  readonly authenticated: boolean;
  readonly rejection: Rejection | null;
  /** WORKER_DROPPED by the validator's own fault: refund the quota unit, take no claim. */
  readonly validatorDrop: boolean;
  readonly group: GradedGroup | null;
  readonly sigma?: number;
}

const ROUTING = ['miner_hotkey', 'prompt_idx', 'window_start', 'merkle_root', 'checkpoint_hash', 'drand_round', 'protocol_version', 'generation_profile_id', 'nonce'] as const;
/** Rejections of `authenticateSubmission` that come after every signature verified (termination, force span). */
const POST_SIGNATURE: ReadonlySet<string> = new Set([Reason.BAD_TERMINATION, Reason.TOKEN_TAMPERED]);

const unparsed = (o: Partial<GradeResult>): GradeResult => ({ request: null, authenticated: false, rejection: null, validatorDrop: false, group: null, ...o });

/** Stage C on the exact revealed bytes of `receipt`, parsed in-process within the reveal bounds. Never throws on miner input. */
export function gradeReveal(receipt: Receipt, body: Uint8Array, ctx: WindowContext, deps: WorkerDeps): GradeResult {
  const json = parseRevealBody(body, deps.profile);
  if (!json.ok) return unparsed({ rejection: json.rejection });
  return gradeRevealJson(receipt, json.value, ctx, deps);
}

/** A parse failure of the `parseReveal` seam as the worker's answer (nothing authenticated: no claim, no refund). */
export function parseRejected(rejection: Rejection): GradeResult {
  return unparsed({ rejection });
}

/** Stage C from the schema on, over the JSON value of the revealed body. Never throws on miner input. */
export function gradeRevealJson(receipt: Receipt, json: unknown, ctx: WindowContext, deps: WorkerDeps): GradeResult {
  const b = bindReveal(receipt, json, ctx, deps);
  return 'done' in b ? b.done : gradeBound(b, ctx, deps);
}

/**
 * `gradeRevealJson` for environments that grade asynchronously (`computeRewardAsync`: a sandbox, a remote grader):
 * once the group has authenticated (schema, routing, every signature) and its prompt binding holds, every
 * completion is graded with `computeRewardAsync`, then stage C runs on, `computeReward` answering from the
 * environment's memory. Nothing a miner sends reaches a grader before its signatures verified. Never throws on miner
 * input; a grader failure is left for `computeReward` to report (WORKER_DROPPED for an outage).
 */
export async function gradeRevealJsonAsync(receipt: Receipt, json: unknown, ctx: WindowContext, deps: WorkerDeps): Promise<GradeResult> {
  const b = bindReveal(receipt, json, ctx, deps);
  if ('done' in b) return b.done;
  const { env, problem } = b;
  if (env.computeRewardAsync) await Promise.allSettled(b.texts.map((t) => env.computeRewardAsync!(problem, t)));
  return gradeBound(b, ctx, deps);
}

/** An authenticated group whose prompt binds: its environment, problem and completion texts. */
interface Bound {
  readonly sub: ParsedSubmission;
  readonly request: BatchSubmissionRequest;
  readonly rejected: (r: Rejection, extra?: Partial<GradeResult>) => GradeResult;
  readonly envName: string;
  readonly env: Environment;
  readonly envProfile: Profile['environments'][string];
  readonly problem: Problem;
  readonly texts: readonly string[];
}

/**
 * Stage C up to the rewards: schema, routing = the receipt's, the receipt's env, signatures, the env served, prompt
 * binding (`done`: the verdict).
 */
function bindReveal(receipt: Receipt, json: unknown, ctx: WindowContext, deps: WorkerDeps): { readonly done: GradeResult } | Bound {
  const { profile: p } = deps;
  const out = unparsed;
  const parsed = parseSubmissionRequest(json, p);
  if (!parsed.ok) return { done: out({ rejection: parsed.rejection }) };
  const request = parsed.value;
  for (const k of ROUTING) {
    if (request[k] !== receipt.request[k]) return { done: out({ request, rejection: reject(Reason.PRECOMMIT_INVALID, `${k} differs from the precommit`, k) }) };
  }
  const stray = request.rollouts.findIndex((r) => r.env_name !== receipt.env);
  if (stray >= 0) return { done: out({ request, rejection: reject(Reason.PRECOMMIT_INVALID, `env_name "${request.rollouts[stray]!.env_name}", precommitted "${receipt.env}"`, `rollouts[${stray}].env_name`) }) };
  const auth = authenticateSubmission(json, { profile: p, randomness: ctx.randomness });
  if (!auth.ok) return { done: out({ request, authenticated: POST_SIGNATURE.has(auth.rejection.reason), rejection: auth.rejection }) };
  const sub = auth.value;
  const rejected = (rejection: Rejection, extra: Partial<GradeResult> = {}): GradeResult => out({ request, authenticated: true, rejection, ...extra });
  const envName = receipt.env;
  const env = deps.envs[envName];
  const envProfile = p.environments[envName];
  if (!env || !envProfile) return { done: rejected(reject(Reason.BAD_SCHEMA, `environment "${envName}" is not served`)) };
  const problem = env.getProblem(sub.prompt_idx);
  const canonical = deps.tokenizer.encode(problem.prompt);
  for (const [i, ro] of sub.rollouts.entries()) {
    const P = ro.commit.rollout.prompt_length;
    if (P !== canonical.length || canonical.some((t, j) => ro.tokens[j] !== t)) {
      return { done: rejected(reject(Reason.PROMPT_MISMATCH, `the first ${P} tokens are not the ${canonical.length}-token canonical encoding of prompt ${sub.prompt_idx}`, `rollouts[${i}].tokens`)) };
    }
  }
  const texts = sub.rollouts.map((ro) => deps.tokenizer.decode(ro.tokens.slice(ro.commit.rollout.prompt_length)));
  return { sub, request, rejected, envName, env, envProfile, problem, texts };
}

/** Stage C from the rewards on: graded, zone, malformed box, near-clones. */
function gradeBound(b: Bound, ctx: WindowContext, deps: WorkerDeps): GradeResult {
  const { profile: p } = deps;
  const { sub, request, rejected, envName, env, envProfile, problem, texts } = b;
  const grade = deps.grade ?? gradeCompletion;
  const eos = new Set(p.model.eosTokenIds);
  const rewards: number[] = [];
  for (const [i, ro] of sub.rollouts.entries()) {
    const g = grade(env, problem, texts[i]!);
    if (!g.ok && g.fault === 'outage') return rejected(reject(Reason.WORKER_DROPPED, `grader outage: ${g.detail}`), { validatorDrop: true });
    if (!g.ok) return rejected(reject(Reason.REWARD_MISMATCH, `the grader failed on this completion: ${g.detail}`, `rollouts[${i}]`));
    if (envProfile.rewardKind === 'binary' && !(Math.abs(g.reward - ro.reward) <= p.checks.rewardTolerance)) {
      return rejected(reject(Reason.REWARD_MISMATCH, `claimed ${ro.reward}, recomputed ${g.reward}`, `rollouts[${i}].reward`));
    }
    rewards.push(g.reward); // fractional (code) envs: the claim is overwritten
  }
  const shapes = sub.rollouts.map((ro, i) => ({ truncated: !eos.has(ro.tokens[ro.tokens.length - 1]!), hasBox: hasAnyBox(texts[i]!) }));
  const uncertain = uncertainIndices(shapes, envProfile);
  const cases = envProfile.rewardKind === 'fraction' ? env.rewardCases?.(problem).length : undefined;
  const lattice = uncertain.length > 0 ? rewardLattice(envProfile, cases) : undefined;
  const zone = valueGroup({ rewards, uncertain, ...(lattice ? { lattice } : {}) }, p.zone, sigmaFloor(p, ctx.window));
  if (!zone.ok) return rejected(zone.rejection, { sigma: zone.sigma });
  if (envProfile.answerFormat === 'boxed' && deps.malformedFinalAnswer) {
    const bad = texts.findIndex((t, i) => deps.malformedFinalAnswer!(t, rewards[i]!));
    if (bad >= 0) return rejected(reject(Reason.MALFORMED_FINAL_ANSWER, `rollout ${bad} scores ${rewards[bad]} and ends with a malformed box`, `rollouts[${bad}]`), { sigma: zone.sigma });
  }
  const suspicious = deps.distributionSuspicious?.({ tokens: sub.rollouts.map((r) => r.tokens), rewards }) ?? null;
  if (suspicious) return rejected(suspicious, { sigma: zone.sigma });
  const group: GradedGroup = {
    id: '',
    env: envName,
    hotkey: sub.miner_hotkey,
    promptIdx: sub.prompt_idx,
    contentSha256: hex(sha256(utf8(problem.prompt))),
    value: zone.value,
    mean: zone.mean,
    sigma: zone.sigma,
    completionLengths: sub.rollouts.map((r) => r.commit.rollout.completion_length),
    merkleRoot: sub.merkle_root,
    rewards,
    rolloutHashes: sub.rollouts.map((r) => rolloutHash(r.tokens)),
    promptText: problem.prompt,
    groundTruth: problem.groundTruth,
    completionTexts: texts,
    submission: sub,
  };
  return { request, authenticated: true, rejection: null, validatorDrop: false, group, sigma: zone.sigma };
}

/** The verdict of D–F: ACCEPTED with the pool entry, or the first rejection; `refund` when the quota unit came back. */
export interface CommitResult {
  readonly rejection: Rejection | null;
  readonly entry: PoolEntry | null;
  readonly refund: boolean;
}

/** Stages D–F for one graded reveal, on the book; C's rejection (if any) stays the verdict. */
export function commitReveal(book: AdmissionBook, p: Profile, receipt: Receipt, graded: GradeResult, now: number): CommitResult {
  const done = (rejection: Rejection | null, entry: PoolEntry | null = null, refund = false): CommitResult => {
    receipt.state = 'done';
    receipt.body = null;
    if (rejection) AdmissionBook.bump(book.rejects, rejection.reason);
    return { rejection, entry, refund };
  };
  if (graded.validatorDrop) {
    AdmissionBook.bump(book.quota, receipt.hotkey, -1);
    return done(graded.rejection, null, true);
  }
  if (!graded.request || !graded.authenticated) return done(graded.rejection);
  const req = graded.request;
  const identity = identityGate(book, p, receipt, req);
  if (graded.rejection) return done(graded.rejection);
  if (identity) return done(identity);
  const started = startGate(book, p, receipt);
  if (started) return done(started);
  const again = commitRecheck(book, p, receipt, graded.group!);
  if (again) return done(again);
  const entry: PoolEntry = {
    ...graded.group!,
    id: receipt.id,
    receiptId: receipt.id,
    operator: book.ctx.operators.get(receipt.hotkey) ?? null,
    arrivalRound: receipt.arrivalRound,
    precommitTs: receipt.arrivalTs,
    acceptedTs: now,
  };
  const pool = book.pool.get(receipt.env) ?? [];
  pool.push(entry);
  book.pool.set(receipt.env, pool);
  return done(null, entry);
}

/** D: identity gates, then the (operator, prompt) claim, which is taken here (and kept even if C rejected). */
function identityGate(book: AdmissionBook, p: Profile, receipt: Receipt, req: BatchSubmissionRequest): Rejection | null {
  const ctx: WindowContext = book.ctx;
  const env = receipt.env;
  if (req.window_start !== ctx.window) return reject(Reason.WINDOW_MISMATCH, `window_start ${req.window_start}, open ${ctx.window}`, 'window_start');
  if (ctx.checkpointRevision !== '' && req.checkpoint_hash !== ctx.checkpointRevision) return reject(Reason.WRONG_CHECKPOINT, `checkpoint_hash "${req.checkpoint_hash}"`, 'checkpoint_hash');
  if (req.protocol_version !== p.protocolVersion) return reject(Reason.PROTOCOL_MISMATCH, `protocol_version ${req.protocol_version}`, 'protocol_version');
  if (req.generation_profile_id !== p.id) return reject(Reason.GENERATION_CONTRACT_MISMATCH, `generation_profile_id "${req.generation_profile_id}"`, 'generation_profile_id');
  const size = ctx.envSizes[env] ?? 0;
  if (req.prompt_idx >= size) return reject(Reason.BAD_PROMPT_IDX, `prompt_idx ${req.prompt_idx} ≥ ${size}`, 'prompt_idx');
  if (BigInt(ctx.window) >= p.promptRange.enforceFromWindow) {
    const [lo, hi] = promptRange(ctx.randomness, env, size, p.promptRange);
    if (req.prompt_idx < lo || req.prompt_idx >= hi) return reject(Reason.PROMPT_OUT_OF_RANGE, `prompt_idx ${req.prompt_idx} outside [${lo}, ${hi})`, 'prompt_idx');
  }
  if (ctx.indexInCooldown(env, req.prompt_idx)) return reject(Reason.PROMPT_IN_COOLDOWN, `prompt ${req.prompt_idx} won recently`, 'prompt_idx');
  const full = promptFull(book, p, env, req.prompt_idx);
  if (full) return full;
  const replayed = req.rollouts.findIndex((r) => ctx.rolloutHashSeen(rolloutHash(r.tokens)));
  if (replayed >= 0) return reject(Reason.HASH_DUPLICATE, `rollout ${replayed} repeats a rollout that won a recent window`, `rollouts[${replayed}].tokens`);
  const operator = ctx.operators.get(receipt.hotkey);
  if (operator === undefined) return reject(Reason.REGISTRATION_UNAVAILABLE, `no operator (coldkey) is known for ${receipt.hotkey}`);
  const holder = book.claimOf(env, operator, req.prompt_idx);
  if (holder !== undefined && holder !== receipt.id) return reject(Reason.HASH_DUPLICATE, `operator ${operator} already claimed prompt ${req.prompt_idx} this window`, 'prompt_idx');
  book.claim(env, operator, req.prompt_idx, receipt.id);
  return null;
}

function promptFull(book: AdmissionBook, p: Profile, env: string, promptIdx: number): Rejection | null {
  const n = book.promptCount(env, promptIdx);
  return n >= p.quotas.groupsPerPrompt ? reject(Reason.PROMPT_FULL, `${n} groups already pending on prompt ${promptIdx}`, 'prompt_idx') : null;
}

/** E: the seal has begun, proof debts, or the env's gradings are used up → BATCH_FILLED; else count a grading. */
function startGate(book: AdmissionBook, p: Profile, receipt: Receipt): Rejection | null {
  const { debts } = book.ctx;
  const operator = book.ctx.operators.get(receipt.hotkey) ?? '';
  if (book.sealed) return reject(Reason.BATCH_FILLED, 'the seal snapshot has begun');
  if ((debts.hotkey.get(receipt.hotkey) ?? 0) >= p.auction.hotkeyDebtMax) return reject(Reason.BATCH_FILLED, 'this hotkey has too many failed proofs');
  if ((debts.operator.get(operator) ?? 0) >= p.auction.operatorDebtMax) return reject(Reason.BATCH_FILLED, 'this operator has too many failed proofs');
  const started = book.gradingsStarted.get(receipt.env) ?? 0;
  if (started >= p.quotas.gradingsPerEnv) return reject(Reason.BATCH_FILLED, `${started} gradings already started for ${receipt.env}`);
  AdmissionBook.bump(book.gradingsStarted, receipt.env);
  return null;
}

/** F: re-check under the lock (single-threaded here, but the order is the spec's): sealed, PROMPT_FULL, hashes. */
function commitRecheck(book: AdmissionBook, p: Profile, receipt: Receipt, g: GradedGroup): Rejection | null {
  if (book.sealed) return reject(Reason.BATCH_FILLED, 'the seal snapshot has begun');
  const full = promptFull(book, p, receipt.env, g.promptIdx);
  if (full) return full;
  const replayed = g.rolloutHashes.findIndex((h) => book.ctx.rolloutHashSeen(h));
  return replayed >= 0 ? reject(Reason.HASH_DUPLICATE, `rollout ${replayed} repeats a recent winning rollout`, `rollouts[${replayed}].tokens`) : null;
}
