/**
 * `reliquary bench proof [--json] [--quick] [--profile ID] [--backends LIST] [--groups N]`: the forgery table of
 * issue 11 on the embedded tiny model (models/tiny-arith) and env-arith, under the profile's proof (default DEVNET).
 *
 *   attacks      one row per attack of bench/proof/attacks.ts (the honest control first): groups tried, accepted,
 *                accepted_differing (accepted groups whose tokens differ from the honest replay), reject reasons;
 *                the sketch rows also give positions passed / tried. Producer and verifier: wasm (else the first
 *                backend that started). Full run: 500 groups per row; --quick: 6.
 *   honest       false rejects of honest groups for every producer→verifier pair of ref, wasm, webgpu
 *                (bench/proof/honest.ts; full: 480 + 480 + 40 groups produced, 2,120 proved; --quick: wasm only).
 *   calibration  the largest measured |Δ logprob|, u-to-CDF-interval distance and |Δ hidden| over those pairs, with
 *                the profile's cdfEpsilon, logprobMaxAbs, sketchAmbiguity and margin = chosen / measured.
 *   cost         mean generation and verification ms per group on each backend, and the ratio.
 *
 * JSON (stdout, progress on stderr): `{profile, attacks: [{attack, groups, accepted, accepted_differing, reasons,
 * skipped, positions?}], honest: [{producer, verifier, groups, rejected, reasons}], calibration, cost, notes}`.
 * A backend that cannot start (no WebGPU adapter) is left out with a note, never an error.
 */
import { AttackLab, ATTACKS, runAttack, type AttackRow } from './proof/attacks.ts';
import type { Calibration } from './proof/calibrate.ts';
import { FULL_HONEST, QUICK_HONEST, runHonest, type CostRow, type HonestPlan, type HonestRow } from './proof/honest.ts';
import { benchProfile, loadTiny, openBackends, PROOF_BACKENDS, TINY_MODEL_DIR } from './proof/setup.ts';
import { formatAttacks, formatCalibration, formatCost, formatHonest } from './proof/table.ts';

/** The calibration figures alone (honest matrix only), for setting profile.proof's constants. */
export { measureCalibration } from './proof/honest.ts';
export type { CalibratedValue, Calibration } from './proof/calibrate.ts';

export interface ProofReport {
  profile: string;
  attacks: AttackRow[];
  honest: HonestRow[];
  calibration: Calibration;
  cost: Record<string, CostRow>;
  notes: string[];
}

export interface BenchProofOptions {
  /** Profile id (default DEVNET's). */
  readonly profile?: string;
  readonly modelDir?: string;
  /** Backends of the honest matrix (default ref, wasm, webgpu; --quick: wasm). */
  readonly backends?: readonly string[];
  /** Groups per attack row (default 500; --quick 6). */
  readonly attackGroups?: number;
  /** Attack rows by name (default all). */
  readonly attacks?: readonly string[];
  readonly honestPlan?: HonestPlan;
  readonly quick?: boolean;
  readonly log?: (line: string) => void;
}

/** Runs the bench (see the file header). */
export async function benchProof(o: BenchProofOptions = {}): Promise<ProofReport> {
  const { profile, note } = benchProfile(o.profile);
  const notes: string[] = note ? [note] : [];
  const log = o.log ?? (() => {});
  const tiny = await loadTiny(o.modelDir ?? TINY_MODEL_DIR);
  const names = o.backends ?? (o.quick ? ['wasm'] : PROOF_BACKENDS);
  const { backends, missing } = await openBackends(names);
  for (const [b, why] of missing) notes.push(`${b} left out: ${why}`);
  try {
    const attackBackend = backends.get('wasm') ?? [...backends.values()][0];
    if (!attackBackend) throw new Error(`no backend could start (${[...missing.values()].join('; ')})`);
    const groups = o.attackGroups ?? (o.quick ? 6 : 500);
    const lab = AttackLab.open({ profile, producer: attackBackend, verifier: attackBackend, tiny });
    const attacks: AttackRow[] = [];
    try {
      for (const a of ATTACKS.filter((x) => !o.attacks || o.attacks.includes(x.name))) attacks.push(await runAttack(lab, a, groups, log));
      if (lab.nextNote) notes.push(`previous-checkpoint: the announced checkpoint is ${lab.nextNote}`);
    } finally {
      lab.close();
    }
    notes.push(`attacks: producer and verifier ${attackBackend.name}; signatures modelled as valid (every attack is re-signed by the cheater)`);
    const plan = o.honestPlan ?? (o.quick ? QUICK_HONEST : FULL_HONEST);
    const h = await runHonest({ profile, tiny, backends, plan, log });
    return { profile: profile.id, attacks, ...h, notes };
  } finally {
    for (const be of backends.values()) be.destroy();
  }
}

/** The text report. */
export function formatProof(r: ProofReport): string[] {
  const sketch = r.attacks.filter((a) => a.positions);
  return [
    `profile ${r.profile}`,
    '',
    ...formatAttacks(r.attacks),
    ...sketch.map((a) => `${a.attack}: ${a.positions!.passed} of ${a.positions!.tried} positions pass (${a.positions!.rate <= 1e-3 ? '≤' : '>'} 10⁻³)`),
    '',
    ...formatHonest(r.honest),
    '',
    ...formatCalibration(r.calibration),
    '',
    ...formatCost(r.cost),
    ...(r.notes.length ? ['', ...r.notes.map((n) => `note: ${n}`)] : []),
  ];
}

export interface BenchProofFlags {
  json?: boolean;
  quick?: boolean;
  profile?: string;
  model?: string;
  /** Comma-separated subset of ref,wasm,webgpu for the honest matrix. */
  backends?: string;
  /** Groups per attack row. */
  groups?: string;
  out?: (text: string) => void;
  err?: (text: string) => void;
}

/** The CLI command: the report as text or JSON; exit 0, 2 on a bad flag, 1 with a one-line error. */
export async function benchProofCommand(flags: BenchProofFlags): Promise<number> {
  const out = flags.out ?? ((t: string) => void process.stdout.write(t));
  const err = flags.err ?? ((t: string) => void process.stderr.write(t));
  const backends = flags.backends?.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = backends?.filter((b) => !(PROOF_BACKENDS as readonly string[]).includes(b)) ?? [];
  const groups = flags.groups === undefined ? undefined : Number(flags.groups);
  if (unknown.length > 0 || (groups !== undefined && !(Number.isSafeInteger(groups) && groups >= 1))) {
    err(`bench proof: ${unknown.length ? `unknown backend ${unknown.join(', ')} (have ${PROOF_BACKENDS.join(', ')})` : `--groups must be a positive integer, got ${flags.groups}`}\n`);
    return 2;
  }
  try {
    const report = await benchProof({
      ...(flags.profile ? { profile: flags.profile } : {}),
      ...(flags.model ? { modelDir: flags.model } : {}),
      ...(backends ? { backends } : {}),
      ...(groups ? { attackGroups: groups } : {}),
      quick: flags.quick === true,
      log: (line) => err(`  ${line}\n`),
    });
    if (flags.json) {
      for (const n of report.notes) err(`note: ${n}\n`);
      out(`${JSON.stringify(report, null, 1)}\n`);
    } else {
      out(`${formatProof(report).join('\n')}\n`);
    }
    return 0;
  } catch (e) {
    err(`bench proof: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
