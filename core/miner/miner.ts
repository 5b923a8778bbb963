/**
 * The miner's serial loop (spec/market.md §10; protocol.md §7 "Miner sequence"), as an explicit object.
 *
 * `tick()` does one step: poll `/state`; nothing installed → `no_window`; a generation-contract, protocol or profile
 * mismatch → stop with a `MinerStopError` (every later call throws it too); a higher `checkpoint_n` → a `checkpoint`
 * event, awaited, so the host reloads its weights before anything is generated; not OPEN, no randomness yet, or this
 * window already mined → `waiting`. With `checkWindow` (e.g. the beacon round's BLS signature, plugins/beacon-drand)
 * the window's randomness is checked first; a refusal is a `window_refused` event and the window is skipped
 * (`waiting`, why `refused`). Otherwise it mines the window:
 *
 *   cooldowns of every environment (`/state?env=`) → selector.pick(count = min(budget, quota)) → per pick, in order:
 *   generate M rollouts → local preflight (certain rejects are skipped, not sent) → grade → commit + Merkle root →
 *   [drand round from the clock, sleeping past a boundary less than `roundGuardSeconds` away → fresh nonce → sign the
 *   envelope → serialise once → sha256 → sign and POST the precommit] (again on STALE_ROUND, at most
 *   `finaliseAttempts` in all) → POST the same bytes with the receipt header.
 *
 * Answers that end the window for this miner (`WINDOW_NOT_ACTIVE`, `WINDOW_MISMATCH`, `PRECOMMIT_EXPIRED`,
 * `RATE_LIMITED`, `WRONG_CHECKPOINT`) stop its remaining picks; `BATCH_FILLED` stops that environment's. Verdicts
 * (`/verdicts?since=`) are polled after each window and on every later tick, fed to `selector.observe` and folded into
 * the per-window stats. Clock, sleep and randomness are injected; nothing here touches a runtime API.
 *
 * @example
 *   const miner = createMiner({ profile, transport, signer, selector, environments: [arith], tokenizer, generate,
 *     clock: () => Date.now() / 1000, sleep: (s) => new Promise((r) => setTimeout(r, s * 1000)),
 *     random: (n) => crypto.getRandomValues(new Uint8Array(n)) });
 *   const stats = await miner.runWindow();   // { window, submitted, accepted, rejected: { out_of_zone: 2 }, … }
 */
import type { Environment } from '../interfaces/environment.ts';
import type { WindowArchive } from '../market/archive.ts';
import type { Selector, SelectorPick, StateSnapshot } from '../interfaces/selector.ts';
import { isTransportError, type Transport } from '../interfaces/transport.ts';
import { generationContract, type Profile } from '../profile/index.ts';
import { drandRound, drandRoundTime } from '../protocol/randomness.ts';
import { Reason } from '../protocol/reasons.ts';
import type { Signer } from '../protocol/sr25519.ts';
import type { GrpoBatchState, SubmissionPrecommitResponse, Verdict } from '../protocol/wire.ts';
import type { Tokenizer } from '../tokenizer/types.ts';
import type { GenerateFn } from './generator.ts';
import { WindowLedger, type GroupRecord, type WindowStats } from './stats.ts';
import {
  commitGroup, finaliseSubmission, gradeGroup, gradingText, newNonce, preflightGroup, type GeneratedRollout, type SignedSubmission,
} from './submission.ts';

export interface MinerDeps {
  readonly profile: Profile;
  readonly transport: Transport;
  readonly signer: Signer;
  readonly selector: Selector;
  /** The environments this miner generates for (by wire name). */
  readonly environments: readonly Environment[];
  readonly tokenizer: Tokenizer;
  readonly generate: GenerateFn;
  /** Wall clock, unix seconds. */
  readonly clock: () => number;
  readonly sleep: (seconds: number) => Promise<void>;
  /** `n` random bytes (nonces). */
  readonly random: (n: number) => Uint8Array;
  /**
   * The public window archives for the selector's feed (`ctx.feed.archives`, newest last), read before each pick;
   * e.g. the validator's signed archives from its store. Absent: an empty list. A failure is an `error` event.
   */
  readonly archives?: () => Promise<readonly WindowArchive[]> | readonly WindowArchive[];
  /** Progress and the checkpoint hook; awaited, so a `checkpoint` handler can reload weights first. */
  readonly onEvent?: (event: MinerEvent) => void | Promise<void>;
  /**
   * Checks an open window before it is mined (its randomness: the beacon round's signature, …); null: cannot tell
   * yet (the window moved on), ask again at the next tick. Transport failures propagate like `/state`'s.
   */
  readonly checkWindow?: (state: GrpoBatchState) => Promise<WindowCheck | null>;
}

/** A `checkWindow` answer: a refusal carries a reason code and a line a person can act on. */
export type WindowCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly message: string };

export interface MinerOptions {
  /** Groups per window; clamped to the hotkey quota (default: the quota). */
  groupsPerWindow: number | undefined;
  /** Wait between `/state` polls in `runWindow` (seconds). */
  pollSeconds: number;
  /** Never sign a round with less than this left (market §10: not in the last 1 s). */
  roundGuardSeconds: number;
  /** How far past the boundary to sleep when the guard triggers (seconds). */
  boundaryMarginSeconds: number;
  /** Precommit attempts per group, the first included (re-finalised only on STALE_ROUND). */
  finaliseAttempts: number;
  /** The checkpoint the weights loaded at start belong to; a higher `/state.checkpoint_n` raises `checkpoint`. */
  checkpointN: number;
  /** Verdicts kept for the selector's feed. */
  verdictHistory: number;
  /** Text a completion is graded on (default `gradingText`: decoded with special tokens kept). */
  gradingText: ((tokenizer: Tokenizer, rollout: GeneratedRollout) => string) | undefined;
  /** `commit.model` (default: the profile's model id and layer). */
  modelName: string | undefined;
  layerIndex: number | undefined;
}

/** Documented defaults; `createMiner(deps, options)` merges its options over these. */
export const MINER_DEFAULTS: Readonly<MinerOptions> = Object.freeze({
  groupsPerWindow: undefined,
  pollSeconds: 1,
  roundGuardSeconds: 1,
  boundaryMarginSeconds: 0.05,
  finaliseAttempts: 3,
  checkpointN: 0,
  verdictHistory: 200,
  gradingText: undefined,
  modelName: undefined,
  layerIndex: undefined,
});

/** What the miner tells its host. */
export type MinerEvent =
  | { readonly kind: 'checkpoint'; readonly checkpointN: number; readonly previous: number; readonly repoId: string | null; readonly revision: string | null }
  | { readonly kind: 'window'; readonly window: number; readonly picks: readonly SelectorPick[] }
  | { readonly kind: 'window_refused'; readonly window: number; readonly reason: string; readonly message: string }
  | { readonly kind: 'group'; readonly window: number; readonly group: Readonly<GroupRecord> }
  | { readonly kind: 'verdict'; readonly verdict: Verdict }
  | { readonly kind: 'error'; readonly error: unknown };

/** The outcome of one `tick()`. */
export type TickResult =
  | { readonly kind: 'no_window' }
  | { readonly kind: 'waiting'; readonly window: number; readonly why: 'not_open' | 'no_randomness' | 'already_mined' | 'window_changed' | 'refused' }
  | { readonly kind: 'mined'; readonly stats: WindowStats };

/** Why the miner stopped: it cannot take part in this validator's windows without a change on its side. */
export class MinerStopError extends Error {
  override readonly name = 'MinerStopError';
  constructor(readonly reason: 'protocol_mismatch' | 'generation_contract_mismatch', message: string) {
    super(message);
  }
}

/** Answers after which nothing more can be sent this window. */
const ENDS_WINDOW: ReadonlySet<string> = new Set([
  Reason.WINDOW_NOT_ACTIVE, Reason.WINDOW_MISMATCH, Reason.PRECOMMIT_EXPIRED, Reason.RATE_LIMITED, Reason.WRONG_CHECKPOINT,
]);
const STOPS: Readonly<Record<string, MinerStopError['reason']>> = {
  [Reason.PROTOCOL_MISMATCH]: 'protocol_mismatch',
  [Reason.GENERATION_CONTRACT_MISMATCH]: 'generation_contract_mismatch',
};

/** A miner over its dependencies, with `options` merged over `MINER_DEFAULTS`. */
export function createMiner(deps: MinerDeps, options: Partial<MinerOptions> = {}): Miner {
  return new Miner(deps, { ...MINER_DEFAULTS, ...options });
}

export class Miner {
  private checkpointN: number;
  private stopped: MinerStopError | null = null;
  private verdictSince = 0;
  private readonly feed: Verdict[] = [];
  private readonly ledgers = new Map<number, WindowLedger>();
  /** Windows `checkWindow` refused (never mined). */
  private readonly refused = new Set<number>();
  private readonly envs: ReadonlyMap<string, Environment>;

  constructor(private readonly deps: MinerDeps, private readonly options: MinerOptions) {
    this.checkpointN = options.checkpointN;
    this.envs = new Map(deps.environments.map((e) => [e.name, e]));
  }

  /** The stats of `window` so far (verdicts keep arriving after it is mined), or undefined if not mined. */
  windowStats(window: number): WindowStats | undefined {
    return this.ledgers.get(window)?.stats();
  }

  /** The checkpoint the miner's weights are at (after the host's reload). */
  get checkpoint(): number {
    return this.checkpointN;
  }

  /** One step of the loop (see the module comment). Transport failures of `/state` propagate. */
  async tick(): Promise<TickResult> {
    if (this.stopped) throw this.stopped;
    const state = await this.deps.transport.state();
    if (this.ledgers.size > 0) await this.pollVerdicts();
    if (!state) return { kind: 'no_window' };
    this.checkContract(state);
    await this.checkCheckpoint(state);
    const window = state.window_n;
    if (state.state !== 'open') return { kind: 'waiting', window, why: 'not_open' };
    if (state.randomness === '') return { kind: 'waiting', window, why: 'no_randomness' };
    if (this.ledgers.has(window)) return { kind: 'waiting', window, why: 'already_mined' };
    if (this.refused.has(window)) return { kind: 'waiting', window, why: 'refused' };
    if (this.deps.checkWindow) {
      const c = await this.deps.checkWindow(state);
      if (c === null) return { kind: 'waiting', window, why: 'window_changed' };
      if (!c.ok) {
        this.refused.add(window);
        await this.emit({ kind: 'window_refused', window, reason: c.reason, message: c.message });
        return { kind: 'waiting', window, why: 'refused' };
      }
    }
    return this.mineWindow(state);
  }

  /**
   * Ticks until a window is mined and returns its stats. Transport failures are reported as `error` events and
   * retried after `pollSeconds`; a `MinerStopError` or an abort of `signal` ends it.
   */
  async runWindow(signal?: AbortSignal): Promise<WindowStats> {
    for (;;) {
      signal?.throwIfAborted();
      try {
        const r = await this.tick();
        if (r.kind === 'mined') return r.stats;
      } catch (e) {
        if (!isTransportError(e)) throw e;
        await this.emit({ kind: 'error', error: e });
      }
      await this.deps.sleep(this.options.pollSeconds);
    }
  }

  private async mineWindow(state: GrpoBatchState): Promise<TickResult> {
    const { profile, selector } = this.deps;
    const window = state.window_n;
    const snapshot = await this.snapshot(state);
    if (!snapshot) return { kind: 'waiting', window, why: 'window_changed' };
    const ledger = new WindowLedger(window);
    this.ledgers.set(window, ledger);
    const quota = profile.quotas.precommitsPerHotkey;
    const budget = Math.max(0, Math.min(quota, this.options.groupsPerWindow ?? quota));
    const environments = this.deps.environments.filter((e) => e.name in snapshot.cooldowns);
    const archives = await this.readArchives();
    const picks = (await selector.pick({ state: snapshot, environments, mix: profile.environmentMix, count: budget, feed: { verdicts: this.feed, archives } })).slice(0, budget);
    ledger.picked = picks.length;
    await this.emit({ kind: 'window', window, picks });
    const closedEnvs = new Set<string>();
    for (const pick of picks) {
      if (closedEnvs.has(pick.env)) continue;
      const g = await this.mineGroup(state, pick, ledger);
      await this.emit({ kind: 'group', window, group: { ...g } });
      if (g.reason && STOPS[g.reason]) throw this.stop(STOPS[g.reason]!, `the validator answered ${g.reason} to a precommit: this miner's profile ${profile.id} (protocol ${profile.protocolVersion}) does not match the validator's; update the miner`);
      if (g.status !== 'rejected' || !g.reason) continue;
      if (ENDS_WINDOW.has(g.reason)) break;
      if (g.reason === Reason.BATCH_FILLED) closedEnvs.add(pick.env);
    }
    await this.pollVerdicts();
    return { kind: 'mined', stats: ledger.stats() };
  }

  /** The archives for the selector's feed (`deps.archives`); on a failure an `error` event and none. */
  private async readArchives(): Promise<readonly WindowArchive[]> {
    if (!this.deps.archives) return [];
    try {
      return await this.deps.archives();
    } catch (e) {
      await this.emit({ kind: 'error', error: e });
      return [];
    }
  }

  /** `/state` of every environment (its cooldowns); null if the window moved on between the calls. */
  private async snapshot(state: GrpoBatchState): Promise<StateSnapshot | null> {
    const cooldowns: Record<string, readonly number[]> = {};
    const [first] = this.deps.profile.environmentMix[0] ?? [];
    for (const env of this.envs.keys()) {
      let s: GrpoBatchState | null = state;
      if (env !== first) {
        try {
          s = await this.deps.transport.state(env);
        } catch (e) {
          if (isTransportError(e, 'unknown_env')) continue; // this window does not run it
          throw e;
        }
      }
      if (!s || s.window_n !== state.window_n || s.randomness !== state.randomness) return null;
      cooldowns[env] = s.cooldown_prompts;
    }
    return { window: state.window_n, randomness: state.randomness, checkpointN: state.checkpoint_n, cooldowns };
  }

  /** Generates, checks, commits and sends one group; returns its record. */
  private async mineGroup(state: GrpoBatchState, pick: SelectorPick, ledger: WindowLedger): Promise<GroupRecord> {
    const { profile, tokenizer, signer, transport } = this.deps;
    const record = (merkleRoot: string | null, status: GroupRecord['status'], reason: string | null): GroupRecord =>
      ledger.add({ env: pick.env, promptIdx: pick.promptIdx, merkleRoot, status, reason, rewarded: null, attempts: 0, revealed: false });
    const env = this.envs.get(pick.env);
    const envProfile = profile.environments[pick.env];
    if (!env || !envProfile) return record(null, 'skipped', Reason.BAD_SCHEMA);
    const problem = env.getProblem(pick.promptIdx);
    const prompt = tokenizer.encode(problem.prompt);
    const maxNewTokens = Math.min(envProfile.maxNewTokens, profile.model.maxContext - prompt.length);
    if (maxNewTokens < 1) return record(null, 'skipped', Reason.BAD_TOKENS);
    const routing = { env: pick.env, promptIdx: pick.promptIdx, windowStart: state.window_n, randomness: state.randomness, checkpointHash: state.checkpoint_revision ?? '' };
    const rollouts = await this.deps.generate({
      env, problem, prompt, maxNewTokens,
      stream: { randomness: routing.randomness, promptIdx: routing.promptIdx, checkpointHash: routing.checkpointHash, hotkey: this.deps.signer.ss58 },
      rollouts: profile.sampling.rollouts,
      eosTokenIds: profile.model.eosTokenIds,
    });
    const bad = preflightGroup(profile, pick.env, rollouts);
    if (bad) return record(null, 'skipped', bad.reason);
    const textOf = this.options.gradingText ?? gradingText;
    const rewards = gradeGroup(env, problem, rollouts, (r) => textOf(tokenizer, r));
    const commitOptions = { ...(this.options.modelName !== undefined && { modelName: this.options.modelName }), ...(this.options.layerIndex !== undefined && { layerIndex: this.options.layerIndex }) };
    const group = commitGroup(profile, signer, routing, rollouts, rewards, commitOptions);
    const g = record(group.merkleRoot, 'error', null);
    try {
      let signed: SignedSubmission;
      let answer: SubmissionPrecommitResponse;
      do {
        if (g.attempts > 0) ledger.staleRetries++;
        g.attempts++;
        signed = finaliseSubmission(profile, signer, group, { drandRound: await this.currentRound(), nonce: newNonce(this.deps.random) });
        answer = await transport.precommit(signed.precommit);
      } while (!answer.accepted && answer.reason === Reason.STALE_ROUND && g.attempts < this.options.finaliseAttempts);
      if (!answer.accepted || !answer.receipt_id) return Object.assign(g, { status: 'rejected', reason: answer.accepted ? 'missing_receipt' : answer.reason });
      const reveal = await transport.submit(answer.receipt_id, signed.bytes);
      if (!reveal.accepted) return Object.assign(g, { status: 'rejected', reason: reveal.reason });
      Object.assign(g, { status: 'submitted', revealed: true });
      this.deps.selector.observe?.({ kind: 'submitted', window: state.window_n, env: pick.env, promptIdx: pick.promptIdx, merkleRoot: group.merkleRoot, rewards });
    } catch (e) {
      if (!isTransportError(e)) throw e;
      g.reason = e.code;
      await this.emit({ kind: 'error', error: e });
    }
    return g;
  }

  /** The drand round to sign, from the clock; sleeps past the boundary when less than the guard is left. */
  private async currentRound(): Promise<number> {
    const { drand } = this.deps.profile;
    const now = this.deps.clock();
    const round = drandRound(now, drand);
    const left = drandRoundTime(round + 1, drand) - now;
    if (left >= this.options.roundGuardSeconds) return round;
    await this.deps.sleep(left + this.options.boundaryMarginSeconds);
    return drandRound(this.deps.clock(), drand);
  }

  /** New verdicts since the last poll: to the selector, the ledgers and the host. A transport failure is an event. */
  private async pollVerdicts(): Promise<void> {
    let verdicts: Verdict[];
    try {
      verdicts = await this.deps.transport.verdicts(this.deps.signer.ss58, this.verdictSince);
    } catch (e) {
      if (!isTransportError(e)) throw e;
      return this.emit({ kind: 'error', error: e });
    }
    for (const v of verdicts) {
      if (v.ts <= this.verdictSince && this.verdictSince > 0) continue;
      this.verdictSince = Math.max(this.verdictSince, v.ts);
      const ledger = v.window_n != null ? this.ledgers.get(v.window_n) : undefined;
      if (!ledger?.applyVerdict(v)) for (const l of this.ledgers.values()) if (l.applyVerdict(v)) break;
      this.feed.push(v);
      if (this.feed.length > this.options.verdictHistory) this.feed.splice(0, this.feed.length - this.options.verdictHistory);
      this.deps.selector.observe?.({ kind: 'verdict', verdict: v });
      await this.emit({ kind: 'verdict', verdict: v });
    }
  }

  /** Stops on a protocol, profile or generation-contract mismatch (protocol.md §7: exact equality). */
  private checkContract(state: GrpoBatchState): void {
    const p = this.deps.profile;
    if (state.protocol_version !== p.protocolVersion) {
      throw this.stop('protocol_mismatch', `the validator runs protocol ${String(state.protocol_version)}, this miner ${p.protocolVersion}; update the miner to the validator's profile`);
    }
    if ((state.generation_profile_id ?? '') !== p.id) {
      throw this.stop('generation_contract_mismatch', `the validator's generation profile is ${JSON.stringify(state.generation_profile_id)}, this miner's ${JSON.stringify(p.id)}; start the miner with the validator's profile`);
    }
    const diff = jsonDifference(state.generation_contract, generationContract(p), 'generation_contract');
    if (diff) throw this.stop('generation_contract_mismatch', `the validator's generation contract differs from profile ${p.id} at ${diff}; the miner would generate what the validator rejects`);
  }

  /** A higher `checkpoint_n`: raise `checkpoint` (awaited: the host reloads), then tell the selector. */
  private async checkCheckpoint(state: GrpoBatchState): Promise<void> {
    if (state.checkpoint_n <= this.checkpointN) return;
    const previous = this.checkpointN;
    await this.emit({ kind: 'checkpoint', checkpointN: state.checkpoint_n, previous, repoId: state.checkpoint_repo_id, revision: state.checkpoint_revision });
    this.checkpointN = state.checkpoint_n;
    this.deps.selector.observe?.({ kind: 'checkpoint', checkpointN: state.checkpoint_n });
  }

  private stop(reason: MinerStopError['reason'], message: string): MinerStopError {
    this.stopped = new MinerStopError(reason, message);
    return this.stopped;
  }

  private async emit(event: MinerEvent): Promise<void> {
    await this.deps.onEvent?.(event);
  }
}

/** Path of the first difference between two JSON values (`a` as received, `b` as expected), or null if equal. */
export function jsonDifference(a: unknown, b: unknown, path = '$'): string | null {
  if (a === b) return null;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return `${path} (got ${JSON.stringify(a) ?? 'nothing'}, expected ${JSON.stringify(b) ?? 'nothing'})`;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort();
  for (const k of keys) {
    const d = jsonDifference(ra[k], rb[k], Array.isArray(a) ? `${path}[${k}]` : `${path}.${k}`);
    if (d) return d;
  }
  return null;
}
