/**
 * `reliquary bench drift [--json] [--quick]`: how far the backends drift apart on the shipped tiny model
 * (models/tiny-arith), and what that does to the proof checks (issue 5, deliverable 7).
 *
 * Prompts: `perLevel` held-out env-arith problems of every level; M forced-seed rollouts each (window randomness
 * R, stream (R, held-out index, "")). Two tables:
 *
 *   forward vs ref   every backend X on the *same* token sequences (ref's honest rollouts), batch 1, cache-less:
 *                    max |Δh| of the final hidden states, max |Δlogp| of the chosen tokens, share of positions whose
 *                    GRAIL sketch differs from ref's; and X's own generation against ref's: share of forced-seed
 *                    picks (completion positions) that agree, share of whole rollouts that are identical.
 *   miner → validator  an honest miner generating on X, a validator re-running the proof forward on Y (every pair),
 *                    and dishonest miners validated on Y: `other-model` (an honest run of a different checkpoint:
 *                    the shipped weights plus seeded noise), `random-sketch` (ref's tokens, random commitments),
 *                    `sketch=0` (ref's tokens, every commitment 0). Per pair: share of sketch positions within the v4
 *                    tolerance and 10× / 100× tighter (proof v2: the v8 candidate match, then exact equality in
 *                    both tighter columns, completion positions only), max and p99 circular sketch distance (of the
 *                    raw values under v8, which has no distance), median logprob deviation expm1|Δ|, forced-seed exact-match ratio (all completion positions), and the verdict of
 *                    `verifyRollouts` (DEVNET profile, checkpoint pinned) per group: accepted, or the reason code.
 *
 * The validator's side is core/validator/prover.ts: `proofGroup` is its `proofRecords`, `validateGroup` its `proveGroup`.
 *
 * Rows are `{bench, backend, shape, value, unit}` as in `bench kernels`; `backend` is `X` (forward table) or
 * `X→Y` (pairs). The rows of both tables are what `--json` prints.
 */
import type { ComputeBackend } from '../core/compute/backend.ts';
import { loadCheckpoint } from '../core/model/checkpoint.ts';
import { parseQwen3Config, type Qwen3Config } from '../core/model/config.ts';
import { Qwen3Model } from '../core/model/forward.ts';
import { generateRollouts, type Rollout } from '../core/model/generate.ts';
import { sketchesOf } from '../core/model/proof.ts';
import { mulberry32, type LeveledEnvironment } from '../core/model/tiny.ts';
import { disposeQwen3Weights, uploadQwen3Weights, type HostTensor } from '../core/model/weights.ts';
import { DEVNET, type Profile } from '../core/profile/index.ts';
import { verifyRollouts, type CheckContext, type RolloutUnderCheck } from '../core/protocol/checks.ts';
import { checkContextOf, proofRecords, proveGroup, type ProverContext, type ProverGroup } from '../core/validator/prover.ts';
import type { Rejection } from '../core/protocol/reasons.ts';
import { median, quantile, uAt } from '../core/protocol/sampling.ts';
import { sketchDistance, sketchTolerance } from '../core/protocol/sketch.ts';
import { DEVNET_CHAR_TOKENIZER } from '../core/tokenizer/char.ts';
import { nodeCheckpointFs } from '../hosts/node/fs-checkpoint.ts';
import { createBackend, modelTensors } from '../hosts/node/commands/model.ts';
import { envArith } from '../plugins/env-arith/index.ts';
import { fmt, type BenchNote, type BenchRow } from './table.ts';

export const DRIFT_BACKENDS = ['ref', 'wasm', 'webgpu'] as const;
/** The window randomness of the bench (fixed, so the table is reproducible). */
export const DRIFT_RANDOMNESS = '5e'.repeat(32);
export const TINY_MODEL_DIR = 'models/tiny-arith';

/** One group as a miner submits it: the prompt's stream and M rollouts with their commitments and logprobs. */
export interface Group {
  readonly promptIdx: number;
  readonly rollouts: readonly Rollout[];
  /** The hotkey that generated and signs it (the v2 stream binds it); default "". */
  readonly hotkey?: string;
}

/** The validator's window for a devnet arith group (bootstrap checkpoint "", no seal randomness). */
function windowOf(randomness: string, profile: Profile): Omit<ProverContext, 'model'> {
  return { profile, randomness, checkpointHash: '', decodeToken: (id) => DEVNET_CHAR_TOKENIZER.decode([id]) };
}

function proverContextOf(model: Qwen3Model, randomness: string, profile: Profile): ProverContext {
  return { model, ...windowOf(randomness, profile) };
}

/** A bench group as core/validator/prover.ts reads it. */
function proverGroupOf(g: Group): ProverGroup {
  return {
    env: 'arith', promptIdx: g.promptIdx, hotkey: g.hotkey ?? '',
    rollouts: g.rollouts.map((r) => ({
      tokens: Array.from(r.tokens), promptLength: r.promptLength,
      commitments: Array.from(r.commitments, (sketch) => ({ sketch })), tokenLogprobs: Array.from(r.logprobs),
    })),
  };
}

/** The validator's check context for a devnet arith group (checkpoint pinned: the forced-seed gates are enforced). */
export function devnetCheckContext(promptIdx: number, randomness: string, profile: Profile = DEVNET, hotkey = ''): CheckContext {
  return checkContextOf({ env: 'arith', promptIdx, hotkey }, windowOf(randomness, profile));
}

/** The validator's side: one proof forward per rollout on `model` (the prover's `proofRecords`), paired with the miner's claims. */
export async function proofGroup(model: Qwen3Model, g: Group, randomness: string, profile: Profile = DEVNET): Promise<RolloutUnderCheck[]> {
  return proofRecords(proverGroupOf(g), proverContextOf(model, randomness, profile));
}

/** The prover's verdict on a group (`proveGroup`): null (accepted) or the rejection. */
export async function validateGroup(model: Qwen3Model, g: Group, randomness: string, profile: Profile = DEVNET): Promise<Rejection | null> {
  return proveGroup(proverGroupOf(g), proverContextOf(model, randomness, profile));
}

/** The tiny model's config and tensors from a checkpoint directory. */
export async function loadTinyModel(dir: string): Promise<{ cfg: Qwen3Config; tensors: Map<string, HostTensor> }> {
  const ckpt = await loadCheckpoint(nodeCheckpointFs(), dir);
  return { cfg: parseQwen3Config(ckpt.config), tensors: modelTensors(ckpt.tensors) };
}

/** A different checkpoint of the same shape: each tensor plus seeded uniform noise of `rel`× its RMS. */
export function perturbedTensors(tensors: ReadonlyMap<string, HostTensor>, seed: number, rel: number): Map<string, HostTensor> {
  const rand = mulberry32(seed);
  const out = new Map<string, HostTensor>();
  for (const [name, t] of tensors) {
    const src = t.data as Float32Array;
    let sq = 0;
    for (const x of src) sq += x * x;
    const a = rel * Math.sqrt(sq / src.length) * Math.sqrt(3);
    out.set(name, { shape: t.shape, dtype: 'f32', data: src.map((x) => x + a * (2 * rand() - 1)) });
  }
  return out;
}

/** Honest groups of the bench prompts on `model`. */
export async function generateGroups(model: Qwen3Model, prompts: readonly number[], M: number, randomness: string, profile: Profile = DEVNET): Promise<Group[]> {
  const env = envArith();
  const groups: Group[] = [];
  for (const promptIdx of prompts) {
    const prompt = DEVNET_CHAR_TOKENIZER.encode(env.heldOut.getProblem(promptIdx).prompt);
    const rollouts = await generateRollouts(model, {
      prompt, profile, rollouts: M, maxNewTokens: profile.environments['arith']!.maxNewTokens,
      eosTokenIds: profile.model.eosTokenIds, stream: { randomness, promptIdx, checkpointHash: '' },
    });
    groups.push({ promptIdx, rollouts });
  }
  return groups;
}

/** The first `perLevel` held-out indices of every level. */
export function benchPrompts(perLevel: number, env: LeveledEnvironment = envArith()): number[] {
  const count = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < env.heldOut.size; i++) {
    const l = env.heldOut.level(i);
    if ((count.get(l) ?? 0) < perLevel) {
      count.set(l, (count.get(l) ?? 0) + 1);
      out.push(i);
    }
  }
  return out;
}

/** Pair statistics of groups under one validator's proof forwards. */
async function pairRows(validator: Qwen3Model, groups: readonly Group[], label: string, shape: string, profile: Profile): Promise<BenchRow[]> {
  const { grail, forcedSeed } = profile;
  const v8 = profile.proof.scheme === 'v2';
  const dists: number[] = [];
  const pass = [0, 0, 0];
  const devs: number[] = [];
  let exact = 0;
  let positions = 0;
  const verdicts = new Map<string, number>();
  for (const g of groups) {
    const checked = await proofGroup(validator, g, DRIFT_RANDOMNESS, profile);
    checked.forEach(({ proof, claim }, m) => {
      claim.commitments.forEach((c, i) => {
        const mine = proof.sketches[i];
        if (mine === undefined) return; // v8 recomputes completion positions only
        const d = sketchDistance(c.sketch as number, mine, grail);
        dists.push(d);
        if (v8) {
          if (proof.sketchCandidates?.[i]?.includes(c.sketch as number)) pass[0]!++;
          if (d === 0) { pass[1]!++; pass[2]!++; }
        } else {
          [1, 10, 100].forEach((k, n) => { if (d <= Math.trunc(sketchTolerance(i, grail) / k)) pass[n]!++; });
        }
      });
      const C = proof.tokens.length - proof.promptLength;
      for (let j = 0; j < C; j++) {
        devs.push(Math.expm1(Math.abs(claim.tokenLogprobs[j]! - proof.chosenLogprob[j]!)));
        const u = Math.fround(uAt(DRIFT_RANDOMNESS, g.promptIdx, '', m, j, forcedSeed));
        if (proof.cdfLower[j]! <= u && u < proof.cdfUpper[j]!) exact++;
        positions++;
      }
    });
    const v = verifyRollouts(checked, devnetCheckContext(g.promptIdx, DRIFT_RANDOMNESS, profile));
    const key = v ? v.reason : 'accepted';
    verdicts.set(key, (verdicts.get(key) ?? 0) + 1);
  }
  const row = (bench: string, value: number, unit: string): BenchRow => ({ bench, backend: label, shape, value, unit });
  const rows = [
    row('sketch-pass@tol', pass[0]! / dists.length, 'share'),
    row('sketch-pass@tol/10', pass[1]! / dists.length, 'share'),
    row('sketch-pass@tol/100', pass[2]! / dists.length, 'share'),
    row('sketch-dist-max', Math.max(...dists), 'Δsketch'),
    row('sketch-dist-p99', quantile(dists, 0.99), 'Δsketch'),
    row('logprob-dev-median', median(devs), 'expm1|Δ|'),
    row('seed-exact', exact / positions, 'share'),
  ];
  for (const [reason, n] of [...verdicts].sort()) rows.push(row(reason === 'accepted' ? 'accepted' : `rejected:${reason}`, n, `of ${groups.length} groups`));
  return rows;
}

export interface DriftOptions {
  readonly modelDir?: string;
  /** Held-out problems per level (default 2). */
  readonly perLevel?: number;
  /** Rollouts per group (default 8). */
  readonly rollouts?: number;
  readonly backends?: readonly string[];
  readonly log?: (line: string) => void;
}

export interface DriftReport {
  readonly machine: string[];
  readonly rows: BenchRow[];
  readonly notes: BenchNote[];
}

/** Runs the drift bench (see the file header). */
export async function benchDrift(opts: DriftOptions = {}): Promise<DriftReport> {
  const profile = DEVNET;
  const log = opts.log ?? (() => {});
  const { cfg, tensors } = await loadTinyModel(opts.modelDir ?? TINY_MODEL_DIR);
  const prompts = benchPrompts(opts.perLevel ?? 2);
  const M = opts.rollouts ?? 8;
  const shape = `${prompts.length}×${M}`;
  const rows: BenchRow[] = [];
  const notes: BenchNote[] = [];
  const models = new Map<string, { be: ComputeBackend; model: Qwen3Model }>();
  for (const name of opts.backends ?? DRIFT_BACKENDS) {
    try {
      const be = await createBackend(name);
      models.set(name, { be, model: new Qwen3Model(be, cfg, uploadQwen3Weights(be, cfg, tensors)) });
    } catch (e) {
      notes.push({ bench: 'drift', shape, backend: name, reason: `unavailable: ${(e as Error).message}` });
    }
  }
  try {
    const ref = models.get('ref');
    if (!ref) throw new Error('bench drift: the ref backend is required (it is the truth the others are compared with)');
    const groups = new Map<string, Group[]>();
    for (const [name, { model }] of models) {
      const t0 = performance.now();
      groups.set(name, await generateGroups(model, prompts, M, DRIFT_RANDOMNESS, profile));
      log(`generated ${shape} rollouts on ${name} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    const refGroups = groups.get('ref')!;
    const seqs = refGroups.flatMap((g) => g.rollouts.map((r) => r.tokens));
    const refFwd = await forwardAll(ref.model, seqs);
    for (const [name, { model }] of models) {
      const f = name === 'ref' ? refFwd : await forwardAll(model, seqs);
      let dh = 0, dlp = 0, differ = 0, n = 0;
      f.forEach((x, s) => {
        const y = refFwd[s]!;
        for (let i = 0; i < x.hidden.length; i++) dh = Math.max(dh, Math.abs(x.hidden[i]! - y.hidden[i]!));
        for (let i = 0; i < x.logprobs.length - 1; i++) dlp = Math.max(dlp, Math.abs(x.logprobs[i]! - y.logprobs[i]!));
        for (let i = 0; i < x.sketches.length; i++, n++) if (x.sketches[i] !== y.sketches[i]) differ++;
      });
      let agree = 0, total = 0, same = 0, count = 0;
      groups.get(name)!.forEach((g, p) => g.rollouts.forEach((r, m) => {
        const o = refGroups[p]!.rollouts[m]!;
        const C = Math.max(r.completionLength, o.completionLength);
        for (let j = 0; j < C; j++) if (r.tokens[r.promptLength + j] === o.tokens[o.promptLength + j] && j < r.completionLength && j < o.completionLength) agree++;
        total += C;
        count++;
        if (r.tokens.length === o.tokens.length && r.tokens.every((t, i) => t === o.tokens[i])) same++;
      }));
      const row = (bench: string, value: number, unit: string): BenchRow => ({ bench, backend: name, shape, value, unit });
      rows.push(row('hidden-maxdiff', dh, '|Δh|'), row('logp-maxdiff', dlp, '|Δlogp|'), row('sketch-differs', differ / n, 'share'),
        row('picks-agree', agree / total, 'share'), row('rollouts-identical', same / count, 'share'));
    }
    const other = new Qwen3Model(ref.be, cfg, uploadQwen3Weights(ref.be, cfg, perturbedTensors(tensors, 2, 0.1)));
    const otherGroups = await generateGroups(other, prompts, M, DRIFT_RANDOMNESS, profile);
    disposeQwen3Weights(ref.be, other.weights);
    const rand = mulberry32(3);
    const forged = (f: (i: number) => number): Group[] => refGroups.map((g) => ({
      promptIdx: g.promptIdx, rollouts: g.rollouts.map((r) => ({ ...r, commitments: Int32Array.from(r.commitments, (_, i) => f(i)) })),
    }));
    const dishonest: [string, Group[]][] = [
      ['other-model', otherGroups],
      ['random-sketch', forged(() => Math.floor(rand() * profile.grail.modulus))],
      ['sketch=0', forged(() => 0)],
    ];
    for (const [vName, { model }] of models) {
      for (const [mName, gs] of groups) rows.push(...await pairRows(model, gs, `${mName}→${vName}`, shape, profile));
      for (const [dName, gs] of dishonest) rows.push(...await pairRows(model, gs, `${dName}→${vName}`, shape, profile));
      log(`validated on ${vName}`);
    }
  } finally {
    for (const { be } of models.values()) be.destroy();
  }
  return { machine: [`model ${opts.modelDir ?? TINY_MODEL_DIR}, randomness ${DRIFT_RANDOMNESS.slice(0, 8)}…, ${prompts.length} held-out prompts × ${M} rollouts, profile ${profile.id}`], rows, notes };
}

/** Hidden states, chosen-token logprobs and sketches of each sequence (batch 1, cache-less, as the proof forward). */
async function forwardAll(model: Qwen3Model, seqs: readonly Int32Array[]) {
  const out: { hidden: Float32Array; logprobs: Float32Array; sketches: Int32Array }[] = [];
  for (const s of seqs) {
    const targets = new Int32Array(s.length);
    targets.set(s.subarray(1));
    const f = await model.forward(s, 1, s.length, { targets });
    out.push({ hidden: f.hidden, logprobs: f.logprobs!, sketches: await sketchesOf(model, s, DRIFT_RANDOMNESS, DEVNET) });
  }
  return out;
}

/** A value for the drift tables: exponent form for the tiny differences, else 3 significant digits. */
function cell(v: number): string {
  return v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential(2) : fmt(v);
}

/** The rows pivoted: one line per backend (or pair), one column per bench. */
export function formatDrift(rows: readonly BenchRow[]): string[] {
  const fwd = rows.filter((r) => !r.backend.includes('→'));
  const pairs = rows.filter((r) => r.backend.includes('→'));
  const verdictCol = (r: BenchRow): boolean => r.bench === 'accepted' || r.bench.startsWith('rejected:');
  const table = (rs: readonly BenchRow[], title: string): string[] => {
    const cols = [...new Set(rs.filter((r) => !verdictCol(r)).map((r) => r.bench))];
    const keys = [...new Set(rs.map((r) => r.backend))];
    const hasVerdict = rs.some(verdictCol);
    const head = [title, ...cols, ...(hasVerdict ? ['verdict'] : [])];
    const body = keys.map((k) => {
      const mine = rs.filter((r) => r.backend === k);
      const verdict = mine.filter(verdictCol).map((r) => `${r.value}/${r.unit.split(' ')[1]} ${r.bench.replace('rejected:', '')}`).join(', ');
      return [k, ...cols.map((c) => { const r = mine.find((x) => x.bench === c); return r ? cell(r.value) : ''; }), ...(hasVerdict ? [verdict] : [])];
    });
    const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
    const line = (cells: string[]): string => cells.map((c, i) => (i === 0 || i === cells.length - 1 && hasVerdict ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ').trimEnd();
    return [line(head), w.map((x) => '-'.repeat(x)).join('  '), ...body.map(line)];
  };
  return [...table(fwd, 'forward vs ref'), '', ...table(pairs, 'miner→validator')];
}

export interface BenchDriftFlags {
  json?: boolean;
  quick?: boolean;
  model?: string;
  backends?: string;
  out?: (text: string) => void;
  err?: (text: string) => void;
}

/** The CLI command: prints the tables (or the rows as JSON); exit 0, or 1 with a one-line error. */
export async function benchDriftCommand(flags: BenchDriftFlags): Promise<number> {
  const out = flags.out ?? ((t: string) => void process.stdout.write(t));
  const err = flags.err ?? ((t: string) => void process.stderr.write(t));
  try {
    const backends = flags.backends?.split(',').map((s) => s.trim()).filter(Boolean);
    const report = await benchDrift({
      ...(flags.model ? { modelDir: flags.model } : {}),
      ...(backends ? { backends } : {}),
      ...(flags.quick ? { perLevel: 1, rollouts: 4 } : {}),
      log: (line) => err(`  ${line}\n`),
    });
    for (const n of report.notes) err(`left out: ${n.backend}: ${n.reason}\n`);
    if (flags.json) out(`${JSON.stringify(report.rows, null, 1)}\n`);
    else out(`${[...report.machine, '', ...formatDrift(report.rows)].join('\n')}\n`);
    return 0;
  } catch (e) {
    err(`bench drift: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
