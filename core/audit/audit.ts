/**
 * `reliquary audit` in core (issue 16 part 5): replays a validator's windows from its store and a chain, trusting
 * nothing but the base model, the validator's hotkey and the registry. Per window, in order:
 *
 *   archive-signature  the archive verifies for the validator hotkey
 *   bundle-hash        the bundle's exact bytes hash to the digest the signed archive names (and its key)
 *   bundle-header      the bundle's window, randomness, seal randomness and checkpoint are the archive's
 *   miner-signatures   every group's precommit, envelope and commit signatures; token ids hash to the rollout hashes
 *   registration       every group's hotkey is registered on the chain (block noted)
 *   rewards            every rollout re-graded by its environment equals the validator's reward
 *   proof              the window's announced checkpoint is the replayed one; every proved group re-proved on it
 *                      (proveGroup with the window's randomness, seal randomness and hotkeys) gives the archived verdict
 *   pi-old             that proof forward's log-probs of every completion token equal the bundle's recomputed π_old:
 *                      bit for bit by default (same WASM reference as the validator: deterministic), or within
 *                      `piOldTolerance` when the audit runs on another backend (pi-old.ts)
 *   batch              every trained rollout is a signed, bundled rollout with its recorded reward and π_old
 *   train-step         the GRPO step replayed on the batch, on its stored π_old, reproduces the signed step line
 *                      (applied, loss, grad norm)
 *   checkpoint         the replayed trainer's checkpoint hashes to the published revision, bit for bit (and the
 *                      published weights file, when readable, to the same)
 *   manifest           per publish: both manifest signatures, parent = the previous checkpoint (the base for n = 1),
 *                      no checkpoint number skipped, the signed bundle list = the bundles trained since the parent
 *
 * Training is replayed from the base model through every trained window up to the range's end (the replay needs
 * the whole chain); the proof, rewards and signature checks run for the windows in the range.
 *
 * @example
 *   const r = await auditValidator({ store, chain, validator, profile, backend, base, baseRevision, tokenizer, envs });
 *   r.ok; r.lines; // [{ window: 3, check: 'proof', ok: true, detail: '4 groups re-proved, verdicts agree' }, …]
 */
import type { Chain } from '../interfaces/chain.ts';
import type { ComputeBackend } from '../interfaces/compute.ts';
import type { Environment } from '../interfaces/environment.ts';
import type { ObjectStore } from '../interfaces/store.ts';
import { archiveKey, verifyArchive, type WindowArchive } from '../market/archive.ts';
import { joinPath, WEIGHTS_FILE, type Checkpoint, type CheckpointFs } from '../model/checkpoint.ts';
import { Qwen3Model } from '../model/forward.ts';
import type { Profile } from '../profile/index.ts';
import { createTrainer, disposeTrainer, saveTrainerCheckpoint, trainStep, type Trainer } from '../training/trainer.ts';
import { loadBatch } from '../validator/progress.ts';
import { proveGroup } from '../validator/prover.ts';
import { checkpointRevision } from '../validator/publish.ts';
import { readWindowBundle, parseBundleKey, type WindowBundle } from './bundle.ts';
import { batchFailures, type KnownGroups, learnGroups, minerSignatureFailures, parseGroupBody, proverGroupOf, registrationFailures, rewardFailures } from './checks.ts';
import { readCustodyManifests, verifyCustody, type CustodyManifest } from './custody.ts';
import { piOldMismatch, type PiOldTolerance } from './pi-old.ts';
import { memoryCheckpointFs } from './mem-fs.ts';

export const AUDIT_CHECKS = ['archive-signature', 'bundle-hash', 'bundle-header', 'miner-signatures', 'registration', 'rewards', 'proof', 'pi-old', 'batch', 'train-step', 'checkpoint', 'manifest'] as const;
export type AuditCheck = (typeof AUDIT_CHECKS)[number];

export interface AuditLine {
  readonly window: number;
  readonly check: AuditCheck;
  readonly ok: boolean;
  readonly detail: string;
}

/** One group's verdicts: the leader's archived one and the one re-derived here. */
export interface GroupVerdict {
  readonly id: string;
  readonly env: string;
  readonly hotkey: string;
  readonly leader: boolean;
  readonly replayed: boolean;
  readonly reason: string | null;
}

export interface AuditInput {
  readonly store: ObjectStore;
  readonly chain: Chain;
  readonly validator: string;
  readonly profile: Profile;
  /** A backend with the backward ops (the proof forwards and the replayed steps). */
  readonly backend: ComputeBackend;
  /** The base model the chain of checkpoints starts from, and its revision. */
  readonly base: Checkpoint;
  readonly baseRevision: string;
  readonly tokenizer: { decode(ids: readonly number[]): string };
  /** Environments to re-grade with (absent: the rewards check reports them unavailable). */
  readonly envs: Readonly<Record<string, Environment>>;
  /** Inclusive window range (default: every archived window). */
  readonly from?: number;
  readonly to?: number;
  /** Where the published checkpoint files can be read (their `repo_id` paths), for the file hash. */
  readonly checkpointFs?: CheckpointFs;
  /** How the re-derived π_old must match the bundle's: 'exact' (default; the leader's backend, see pi-old.ts) or a
   * per-token bound (another backend: the profile's `proof.logprobMaxAbs`). */
  readonly piOldTolerance?: PiOldTolerance;
  readonly onLine?: (l: AuditLine) => void;
}

export interface AuditResult {
  readonly ok: boolean;
  readonly lines: readonly AuditLine[];
  readonly windows: readonly number[];
  readonly verdicts: ReadonlyMap<number, readonly GroupVerdict[]>;
  /** The chain block when the registry was read (null: the chain gives none). */
  readonly block: number | null;
}

/** The validator's archives by window (unparseable ones are reported by the signature check). */
async function readArchives(store: ObjectStore, validator: string): Promise<Map<number, WindowArchive | string>> {
  const prefix = archiveKey(validator, 0).replace(/window-0\.json$/, '');
  const out = new Map<number, WindowArchive | string>();
  for (const key of await store.list(prefix)) {
    const w = Number(/window-(\d+)\.json$/.exec(key)?.[1]);
    if (!Number.isSafeInteger(w)) continue;
    try {
      out.set(w, JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode((await store.get(key))!)) as WindowArchive);
    } catch (e) {
      out.set(w, `archive does not parse: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return out;
}

const list = (xs: readonly string[], max = 3): string => `${xs.slice(0, max).join('; ')}${xs.length > max ? `; … ${xs.length - max} more` : ''}`;

/** A window's archive as read from the store (a string: why it does not parse). */
export async function readArchive(store: ObjectStore, validator: string, w: number): Promise<WindowArchive | string | null> {
  const bytes = await store.get(archiveKey(validator, w));
  if (bytes === null) return null;
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as WindowArchive;
  } catch (e) {
    return `archive does not parse: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/**
 * The audit's replay state, fed one archived window at a time in window order (`auditValidator` over a store's
 * archives; the follower node as the leader's windows appear): the trainer replayed from the base model, the
 * replayed revision, the signed groups seen so far and the custody chain verified so far.
 */
export class AuditReplay {
  readonly lines: AuditLine[] = [];
  readonly verdicts = new Map<number, GroupVerdict[]>();
  block: number | null = null;
  private readonly trainer: Trainer;
  private readonly memFs = memoryCheckpointFs();
  private registered = new Set<string>();
  private published: string;
  private readonly revisionByWindow = new Map<number, string>();
  private readonly bundleByWindow = new Map<number, string>();
  private readonly trainedWindows = new Set<number>();
  private readonly known: KnownGroups = new Map();
  private manifestsDone = 0;
  private prev = { revision: '', n: 0, window: -1 };

  private constructor(private readonly i: AuditInput) {
    this.trainer = createTrainer(i.backend, i.base, i.profile, null);
    this.published = i.baseRevision;
    this.prev = { revision: i.baseRevision, n: 0, window: -1 };
  }

  /** A replay at the base model, with the chain's registry read. */
  static async open(i: AuditInput): Promise<AuditReplay> {
    const r = new AuditReplay(i);
    try {
      await r.readRegistry();
    } catch (e) {
      r.close();
      throw e;
    }
    return r;
  }

  private async readRegistry(): Promise<void> {
    this.registered = new Set((await this.i.chain.registry()).neurons.map((n) => n.hotkey));
    try {
      this.block = await this.i.chain.currentBlock();
    } catch {
      this.block = null;
    }
  }

  get ok(): boolean {
    return this.lines.every((l) => l.ok);
  }

  private emit(window: number, check: AuditCheck, bad: readonly string[], okDetail: string): void {
    const l = { window, check, ok: bad.length === 0, detail: bad.length === 0 ? okDetail : list(bad) };
    this.lines.push(l);
    this.i.onLine?.(l);
  }

  /**
   * Replays window `w` (after every earlier archived window); `report`: run and report the per-window checks. Records
   * a leader signed but that do not have the shapes the checks read (hostile bytes) fail the window's `bundle-header`
   * check instead of stopping the audit (the later windows then fail wherever the chain is broken).
   */
  async window(w: number, a: WindowArchive | string, report = true): Promise<void> {
    // The bundle is read first, outside the guard: a store that fails (after its retries) fails the call, before
    // any replay state changed, so a caller may retry the window (the follower's next poll).
    const key = typeof a === 'string' ? undefined : (a.replay as { bundle_key?: unknown } | undefined)?.bundle_key;
    const prefetched = typeof key === 'string' && parseBundleKey(key) !== null ? await readWindowBundle(this.i.store, key) : undefined;
    try {
      await this.replayWindow(w, a, report, prefetched);
    } catch (e) {
      this.emit(w, 'bundle-header', [`the window's records do not have the shapes the audit reads: ${e instanceof Error ? e.message : String(e)}`], '');
    }
  }

  private async replayWindow(w: number, a: WindowArchive | string, report: boolean, prefetched: Awaited<ReturnType<typeof readWindowBundle>> | undefined): Promise<void> {
    const { i, trainer, memFs } = this;
    const { store, profile, validator } = i;
    const emit = this.emit.bind(this);
    if (typeof a === 'string') {
      if (report) emit(w, 'archive-signature', [a], '');
      return;
    }
    const sig = verifyArchive(a, validator);
    if (report) emit(w, 'archive-signature', sig.ok ? [] : [sig.error], `signed by ${validator.slice(0, 12)}…`);
    if (a.window_status !== 'completed') return;
    if (!a.replay) {
      if (report) emit(w, 'bundle-hash', ['the archive names no replay bundle (written by a node without issue 16)'], '');
      return;
    }
    const got = prefetched !== undefined ? prefetched : await readWindowBundle(store, a.replay.bundle_key);
    const keyDigest = parseBundleKey(a.replay.bundle_key)?.sha256;
    const hashBad = got === null ? [`bundle ${a.replay.bundle_key} is missing`]
      : [got.sha256 !== a.replay.bundle_sha256 ? `bundle bytes hash to ${got.sha256.slice(0, 16)}…, the signed archive says ${a.replay.bundle_sha256.slice(0, 16)}…` : '',
        keyDigest !== a.replay.bundle_sha256 ? 'bundle key is not its signed digest' : ''].filter(Boolean);
    if (report) emit(w, 'bundle-hash', hashBad, `sha256 ${a.replay.bundle_sha256.slice(0, 16)}… re-hashed`);
    const b: WindowBundle | null = got?.bundle ?? null;
    if (!b) return;
    this.bundleByWindow.set(w, a.replay.bundle_sha256); // the signed link; the bytes are the bundle-hash check's
    const header = [
      b.window !== w ? `window ${b.window}` : '', b.randomness !== a.randomness ? 'randomness' : '', b.seal_randomness !== a.seal_randomness ? 'seal randomness' : '',
      b.checkpoint_revision !== a.checkpoint_revision ? 'checkpoint revision' : '', b.validator_hotkey !== validator ? 'validator hotkey' : '',
    ].filter(Boolean).map((f) => `bundle ${f} differs from the archive's`);
    if (report) emit(w, 'bundle-header', header, 'window, randomness, seal randomness, checkpoint match');
    learnGroups(b, profile, this.known);
    if (report) {
      emit(w, 'miner-signatures', minerSignatureFailures(b, profile), `${b.groups.length} group(s): precommit, envelope, commit signatures and token hashes verify`);
      if (registrationFailures(b, this.registered).length) await this.readRegistry(); // a miner may have registered since
      emit(w, 'registration', registrationFailures(b, this.registered), `${new Set(b.groups.map((g) => g.hotkey)).size} hotkey(s) registered${this.block !== null ? ` (block ${this.block})` : ''}`);
      emit(w, 'rewards', await rewardFailures(b, profile, i.envs, (ids) => i.tokenizer.decode(ids)), `${b.groups.reduce((s, g) => s + g.rewards.length, 0)} rollout(s) re-graded`);
      const v = await reprove(a, b, i, trainer, this.published);
      this.verdicts.set(w, v.verdicts);
      emit(w, 'proof', v.bad, `${v.verdicts.length} group(s)${v.forensics ? ` and ${v.forensics} forensic proof(s)` : ''} re-proved on ${this.published.slice(0, 12)}, verdicts agree`);
      const tol = i.piOldTolerance ?? 'exact';
      emit(w, 'pi-old', v.piOldBad, `${v.piOldRollouts} rollout(s): stored π_old = the re-derived proof forward${tol === 'exact' ? ', bit for bit' : ` within ${tol}`}`);
    }
    emit(w, 'batch', batchFailures(b, this.known), b.batch ? `${b.batch.envs.reduce((s, e) => s + e.groups.length, 0)} trained group(s) are signed groups, rewards and π_old as recorded` : 'no batch');
    const t = b.train;
    if (t?.step) {
      this.trainedWindows.add(w);
      const bad: string[] = [];
      if (t.parent_revision !== this.published) bad.push(`parent ${t.parent_revision.slice(0, 12)} is not the replayed checkpoint ${this.published.slice(0, 12)}`);
      if (!b.batch) bad.push('a step without a batch');
      else {
        const s = await trainStep(trainer, loadBatch(b.batch), { window: w }); // on the stored π_old
        if (s.applied !== t.step.applied || s.loss !== t.step.loss || s.gradNorm !== t.step.gradNorm || s.step !== t.step.step) {
          bad.push(`replayed step ${s.step} applied=${s.applied} loss=${s.loss} gradNorm=${s.gradNorm}; signed step ${t.step.step} applied=${t.step.applied} loss=${t.step.loss} gradNorm=${t.step.gradNorm}`);
        }
      }
      emit(w, 'train-step', bad, `step ${t.step.step} replayed bit for bit on the stored π_old (loss ${t.step.loss})`);
    }
    if (a.replay.result_revision !== null) {
      const dir = `ckpt-${a.replay.result_checkpoint_n}`;
      await saveTrainerCheckpoint(memFs, dir, trainer);
      const rev = await checkpointRevision(memFs, dir);
      memFs.drop(dir);
      const bad = rev !== a.replay.result_revision ? [`replayed checkpoint hashes to ${rev}, the archive signs ${a.replay.result_revision}`] : [];
      this.published = rev;
      this.revisionByWindow.set(w, rev);
      emit(w, 'checkpoint', bad, `checkpoint ${a.replay.result_checkpoint_n} = ${rev} re-derived bit for bit`);
    }
  }

  /** Verifies the custody manifests published for windows ≤ `upTo` not verified yet (see `auditManifests`). */
  async manifests(upTo: number): Promise<void> {
    const all = await readCustodyManifests(this.i.store, this.i.validator);
    const todo = all.slice(this.manifestsDone).filter((m) => (m.window ?? -1) <= upTo);
    this.prev = await auditManifests(this.i, todo, this.prev, this.revisionByWindow, this.bundleByWindow, this.trainedWindows, this.emit.bind(this));
    this.manifestsDone += todo.length;
  }

  /** Frees the replayed trainer. */
  close(): void {
    disposeTrainer(this.trainer);
  }
}

/** Audits a validator's windows (see the file header). */
export async function auditValidator(i: AuditInput): Promise<AuditResult> {
  const archives = await readArchives(i.store, i.validator);
  const all = [...archives.keys()].sort((a, b) => a - b).filter((w) => w <= (i.to ?? Infinity));
  const r = await AuditReplay.open(i);
  try {
    for (const w of all) await r.window(w, archives.get(w)!, w >= (i.from ?? -Infinity));
    await r.manifests(i.to ?? Infinity);
  } finally {
    r.close();
  }
  const windows = [...new Set(r.lines.map((l) => l.window))];
  return { ok: r.ok, lines: r.lines, windows, verdicts: r.verdicts, block: r.block };
}

/** Re-proves every proved candidate and forensic pick of the window on the replayed checkpoint: the verdicts against
 * the archived ones, and the re-derived π_old against the bundle's (bitwise, or within `piOldTolerance`; pi-old.ts). */
async function reprove(a: WindowArchive, b: WindowBundle, i: AuditInput, trainer: Trainer, published: string): Promise<{ bad: string[]; verdicts: GroupVerdict[]; forensics: number; piOldBad: string[]; piOldRollouts: number }> {
  const bad: string[] = [];
  const piOldBad: string[] = [];
  let piOldRollouts = 0;
  let forensics = 0;
  const verdicts: GroupVerdict[] = [];
  if (a.checkpoint_revision !== published) bad.push(`the window announced ${a.checkpoint_revision.slice(0, 12)}, the replayed checkpoint is ${published.slice(0, 12)}`);
  const byId = new Map(b.groups.map((g) => [g.id, g]));
  const model = new Qwen3Model(trainer.be, trainer.cfg, trainer.published);
  const decodeToken = (id: number): string => i.tokenizer.decode([id]);
  const tol = i.piOldTolerance ?? 'exact';
  const check = async (env: string, c: { id: string; hotkey: string }, leaderPassed: boolean, what: string): Promise<GroupVerdict | null> => {
    const g = byId.get(c.id);
    if (!g) {
      bad.push(`${what} ${c.id.slice(0, 10)} was proved but is not in the bundle`);
      return null;
    }
    const p = parseGroupBody(g, i.profile, b.randomness);
    let piOld: readonly Float32Array[] | null = null;
    const rej = p.ok
      ? await proveGroup(proverGroupOf(env, p.sub), { model, profile: i.profile, randomness: a.randomness, sealRandomness: a.seal_randomness, checkpointHash: a.checkpoint_revision, decodeToken }, (lp) => (piOld = lp))
      : { reason: 'BAD_SIGNATURE', message: p.error };
    const replayed = rej === null;
    if (replayed !== leaderPassed) {
      bad.push(`${what} ${c.id.slice(0, 10)} (${c.hotkey.slice(0, 10)}): archived ${leaderPassed ? 'pass' : 'fail'}, re-proved ${replayed ? 'pass' : `fail ${rej!.reason}`}`);
    }
    const recomputed = piOld as readonly Float32Array[] | null;
    if (recomputed !== null) { // null: no forward ran (a body that does not authenticate); miner-signatures names it
      if (!Array.isArray(g.pi_old) || g.pi_old.length !== recomputed.length) {
        piOldBad.push(`${what} ${c.id.slice(0, 10)}: the bundle carries no recomputed π_old for its ${recomputed.length} rollout(s)`);
      } else {
        for (const [m, lp] of recomputed.entries()) {
          piOldRollouts++;
          const why = piOldMismatch(lp, g.pi_old[m], tol);
          if (why) piOldBad.push(`${what} ${c.id.slice(0, 10)} rollout ${m}: ${why}`);
        }
      }
    }
    return { id: c.id, env, hotkey: c.hotkey, leader: leaderPassed, replayed, reason: rej?.reason ?? null };
  };
  for (const [env, auction] of Object.entries(a.difficulty_auction)) {
    for (const c of auction.candidates) {
      if (!c.proof_attempted) continue;
      const v = await check(env, c, c.proof_passed === true, 'group');
      if (v) verdicts.push(v);
    }
    // The forensic proofs of losers (market.md; informational, never paid) ran on the same forward: their verdicts
    // and π_old are checked too, so every proof the leader archived is one the audit re-derived.
    for (const f of (Array.isArray(auction.forensics) ? auction.forensics : []) as readonly { id?: unknown; hotkey?: unknown; passed?: unknown }[]) {
      if (typeof f?.id !== 'string' || typeof f.hotkey !== 'string' || typeof f.passed !== 'boolean') continue; // passed null: the leader's prover threw, nothing to compare
      forensics++;
      await check(env, { id: f.id, hotkey: f.hotkey }, f.passed, 'forensic');
    }
  }
  return { bad, verdicts, forensics, piOldBad, piOldRollouts };
}

type Link = { revision: string; n: number; window: number };

/** The custody chain from `prev` on: signatures, parent links back to the base, bundle lists = bundles trained since
 * the parent, revisions = the replayed ones. Returns the last link verified. */
async function auditManifests(
  i: AuditInput, manifests: readonly CustodyManifest[], prev: Link, revisionByWindow: ReadonlyMap<number, string>, bundleByWindow: ReadonlyMap<number, string>,
  trained: ReadonlySet<number>, emit: (w: number, c: AuditCheck, bad: readonly string[], ok: string) => void,
): Promise<Link> {
  for (const m of manifests) {
    const w = m.window ?? -1;
    const bad: string[] = [];
    const sig = verifyCustody(m, i.validator);
    if (sig) bad.push(sig);
    const c = m.custody;
    if (c) {
      if (c.parent_revision !== prev.revision || c.parent_checkpoint_n !== prev.n) bad.push(`parent ${c.parent_checkpoint_n} ${c.parent_revision.slice(0, 12)} is not checkpoint ${prev.n} ${prev.revision.slice(0, 12)}`);
      const want = [...trained].filter((bw) => bw > prev.window && bw <= w);
      const signed = new Map(c.bundles.map((x) => [x.window, x.sha256]));
      for (const x of c.bundles) if (bundleByWindow.has(x.window) && bundleByWindow.get(x.window) !== x.sha256) bad.push(`window ${x.window}: signed bundle ${x.sha256.slice(0, 12)} is not the archived one`);
      for (const bw of want) if (!signed.has(bw)) bad.push(`window ${bw} trained since the parent but is not in the manifest`);
    }
    if (m.checkpoint_n !== prev.n + 1) bad.push(`checkpoint ${m.checkpoint_n} follows checkpoint ${prev.n}: a manifest is missing`);
    const replayed = revisionByWindow.get(w);
    if (replayed !== undefined && replayed !== m.revision) bad.push(`manifest revision ${m.revision.slice(0, 12)} is not the replayed ${replayed.slice(0, 12)}`);
    if (i.checkpointFs && (await i.checkpointFs.exists(joinPath(m.repo_id, WEIGHTS_FILE)).catch(() => false))) {
      const file = await checkpointRevision(i.checkpointFs, m.repo_id).catch((e: unknown) => `unreadable (${e instanceof Error ? e.message : String(e)})`);
      emit(w, 'checkpoint', file === m.revision ? [] : [`published weights file at ${m.repo_id} hashes to ${file.slice(0, 40)}, the manifest signs ${m.revision}`],
        `published weights file of checkpoint ${m.checkpoint_n} hashes to its signed revision`);
    }
    emit(w, 'manifest', bad, `checkpoint ${m.checkpoint_n} ${m.revision.slice(0, 12)} ← ${prev.n} ${prev.revision.slice(0, 12)}, ${c?.bundles.length ?? 0} bundle(s) signed`);
    prev = { revision: m.revision, n: m.checkpoint_n, window: w };
  }
  return prev;
}
