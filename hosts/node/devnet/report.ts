/**
 * The devnet report: per window (FSM transitions, pool size, winners, rejects by reason, payouts by miner, the
 * training step and the published checkpoint, time split) and per miner over the run (groups submitted, accepted
 * into the pool, won, paid share of the emission, in-zone share = accepted / submitted, its uid and latest weight on
 * the local chain), the held-out pass@1 of the validator's model before the first window and after the last, and the
 * last weight vector set on the local chain (market §6 EMA, burn at the validator's uid). `formatReport` renders it
 * as text; the object itself is what `--json` and `--report FILE` write.
 */
import { formatBenchmark } from '../../../core/validator/benchmark.ts';
import type { WindowStats } from '../../../core/miner/index.ts';
import type { Profile } from '../../../core/profile/index.ts';
import type { SelectorKind } from './miner-host.ts';
import type { HeldOutEval, ValidatorHost, WindowReport } from './validator-host.ts';

export interface MinerTotals {
  readonly name: string;
  readonly hotkey: string;
  readonly selector: SelectorKind;
  readonly windowsMined: number;
  readonly submitted: number;
  readonly accepted: number;
  readonly won: number;
  /** Σ over windows of its `rewards_by_hotkey` share, divided by the number of windows. */
  readonly paidShare: number;
  /** accepted into the pool (in zone) / submitted. */
  readonly inZoneShare: number;
  readonly rejected: Readonly<Record<string, number>>;
  /** Groups not sent (local preflight) and transport errors, by reason. */
  readonly skipped: Readonly<Record<string, number>>;
  readonly errors: Readonly<Record<string, number>>;
  readonly checkpointsReloaded: readonly number[];
  /** Its uid in the local chain (null when not in the last weight vector's registry view). */
  readonly uid: number | null;
  /** The weight of its uid in the last vector set on the local chain (0 when absent). */
  readonly weight: number;
}

/** The last `setWeights` record of the local chain (market §6). */
export interface ChainWeights {
  readonly block: number;
  /** Unix seconds. */
  readonly at: number;
  /** The validator's uid: unpaid and deregistered mass. */
  readonly burnUid: number;
  readonly uids: readonly number[];
  readonly weights: readonly number[];
  /** The hotkey of each uid (null when the uid is no longer registered). */
  readonly hotkeys: readonly (string | null)[];
  /** `setWeights` calls made during this run (one per sealed window on the devnet). */
  readonly submissionsThisRun: number;
}

/** Held-out pass@1 before the first window and after the last (env-arith held-out split, fixed stream). */
export interface HeldOutReport {
  readonly before: HeldOutEval;
  readonly after: HeldOutEval;
  /** after − before (pass@1 points). */
  readonly delta: number;
}

export interface DevnetReport {
  readonly profile: string;
  readonly validator: string;
  readonly recoveredTombstones: readonly number[];
  readonly windows: readonly WindowReport[];
  readonly miners: readonly MinerTotals[];
  readonly heldOut: HeldOutReport;
  readonly chainWeights: ChainWeights | null;
  readonly totals: {
    readonly sealed: number;
    readonly aborted: number;
    readonly checkpointsPublished: number;
    readonly burned: number;
    readonly seconds: { readonly collect: number; readonly proof: number; readonly train: number; readonly wall: number };
  };
}

export interface ReportInput {
  readonly profile: Pick<Profile, 'id'>;
  readonly validator: string;
  readonly recoveredTombstones: readonly number[];
  readonly windows: readonly WindowReport[];
  readonly miners: readonly { name: string; hotkey: string; selector: SelectorKind; stats: readonly WindowStats[]; reloads: readonly number[] }[];
  readonly heldOut: { readonly before: HeldOutEval; readonly after: HeldOutEval };
  readonly chainWeights: ChainWeights | null;
  readonly seconds: number;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

export function buildReport(i: ReportInput): DevnetReport {
  const W = Math.max(1, i.windows.length);
  const cw = i.chainWeights;
  const miners: MinerTotals[] = i.miners.map((m) => {
    const tally = (f: (s: WindowStats) => Readonly<Record<string, number>>): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const s of m.stats) for (const [k, n] of Object.entries(f(s))) out[k] = (out[k] ?? 0) + n;
      return out;
    };
    const rejected = tally((s) => s.rejected);
    const submitted = sum(m.stats.map((s) => s.submitted));
    const accepted = sum(m.stats.map((s) => s.accepted));
    return {
      name: m.name,
      hotkey: m.hotkey,
      selector: m.selector,
      windowsMined: m.stats.length,
      submitted,
      accepted,
      won: sum(i.windows.map((w) => w.winners.filter((x) => x.hotkey === m.hotkey).length)),
      paidShare: r3(sum(i.windows.map((w) => w.payouts[m.hotkey] ?? 0)) / W),
      inZoneShare: submitted ? r3(accepted / submitted) : 0,
      rejected,
      skipped: tally((s) => s.skipped),
      errors: tally((s) => s.errors),
      checkpointsReloaded: [...m.reloads],
      uid: cw ? (cw.uids[cw.hotkeys.indexOf(m.hotkey)] ?? null) : null,
      weight: cw ? (cw.weights[cw.hotkeys.indexOf(m.hotkey)] ?? 0) : 0,
    };
  });
  return {
    profile: i.profile.id,
    validator: i.validator,
    recoveredTombstones: [...i.recoveredTombstones],
    windows: i.windows,
    miners,
    heldOut: { before: i.heldOut.before, after: i.heldOut.after, delta: r3(i.heldOut.after.passAt1 - i.heldOut.before.passAt1) },
    chainWeights: cw,
    totals: {
      sealed: i.windows.filter((w) => w.status === 'completed').length,
      aborted: i.windows.filter((w) => w.status === 'aborted').length,
      checkpointsPublished: i.windows.filter((w) => w.published).length,
      burned: r3(sum(i.windows.map((w) => w.burned)) / W),
      seconds: {
        collect: r3(sum(i.windows.map((w) => w.seconds.collect))),
        proof: r3(sum(i.windows.map((w) => w.seconds.proof))),
        train: r3(sum(i.windows.map((w) => w.seconds.train))),
        wall: r3(i.seconds),
      },
    },
  };
}

/** One window's lines. */
export function formatWindow(w: WindowReport, names: ReadonlyMap<string, string>): string[] {
  const who = (hk: string): string => names.get(hk) ?? `${hk.slice(0, 8)}…`;
  const fmt = (rec: Readonly<Record<string, number>>): string => Object.entries(rec).sort().map(([k, n]) => `${k}=${n}`).join(' ') || 'none';
  const lines = [
    `window ${w.window}  ${w.status}${w.failure ? ` (${w.failure})` : ''}  seal trigger ${w.trigger || '-'}  checkpoint ${w.checkpointRevision ? w.checkpointRevision.slice(0, 12) : '(base)'}`,
    `  states    ${w.transitions.map((t) => `${t.phase}@${t.at}s`).join(' → ')}`,
    `  pool      ${w.poolSize} groups; seal beacon ${w.sealRandomness ? 'yes' : 'none (timed out)'}`,
    `  winners   ${w.winners.length ? w.winners.map((x) => `${who(x.hotkey)} #${x.promptIdx} σ=${x.sigma.toFixed(3)}`).join(', ') : 'none'}`,
    `  rejects   ${fmt(w.rejects)}`,
    `  payouts   ${Object.keys(w.payouts).length ? Object.entries(w.payouts).map(([hk, x]) => `${who(hk)} ${x.toFixed(4)}`).join(', ') : 'none'}; burned ${w.burned.toFixed(4)}`,
  ];
  const t = w.train;
  lines.push(t
    ? `  train     step ${t.step} ${t.applied ? 'applied' : `skipped (${t.skipped})`}: ${t.groups} groups, ${t.tokens} tokens, loss ${t.loss.toFixed(5)}, |g| ${t.gradNorm.toFixed(4)}, lr ${t.lr.toExponential(2)}, mean reward ${t.meanReward.toFixed(3)}`
    : '  train     accumulator not full: no step');
  lines.push(`  publish   ${w.published ? `checkpoint ${w.published.checkpointN} revision ${w.published.revision}` : 'none'}`);
  if (w.published?.benchmark) lines.push(`  benchmark ${formatBenchmark(w.published.benchmark)}`);
  const wl = w.weights;
  if (wl) {
    const miners = Object.entries(wl.byHotkey).map(([hk, x]) => `${who(hk)} ${x.toFixed(4)}`).join(', ');
    lines.push(`  weights   set at block ${wl.block} (EMA over ${wl.replayed} archive${wl.replayed === 1 ? '' : 's'}): ${miners ? `${miners}, ` : ''}burn uid ${wl.burnUid} ${wl.burn.toFixed(4)}`);
  } else lines.push('  weights   not set');
  lines.push(`  time      collect ${w.seconds.collect.toFixed(1)} s, proof ${w.seconds.proof.toFixed(1)} s, train+publish ${w.seconds.train.toFixed(1)} s`);
  return lines;
}

export function formatReport(r: DevnetReport): string {
  const names = new Map(r.miners.map((m) => [m.hotkey, m.name]));
  names.set(r.validator, 'validator');
  const out: string[] = [`Reliquary devnet · profile ${r.profile} · validator ${r.validator}`];
  if (r.recoveredTombstones.length) out.push(`restart: tombstones archived for windows ${r.recoveredTombstones.join(', ')}`);
  for (const w of r.windows) out.push('', ...formatWindow(w, names));
  out.push('', 'miners (over the run)');
  out.push('  name      selector  windows  submitted  accepted  won  paid share  in-zone share  uid  weight  rejected');
  for (const m of r.miners) {
    const rej = [...Object.entries(m.rejected), ...Object.entries(m.skipped).map(([k, n]) => [`skipped:${k}`, n] as const), ...Object.entries(m.errors).map(([k, n]) => [`error:${k}`, n] as const)]
      .sort().map(([k, n]) => `${k}=${n}`).join(' ') || '-';
    out.push(`  ${m.name.padEnd(9)} ${m.selector.padEnd(9)} ${String(m.windowsMined).padStart(7)}  ${String(m.submitted).padStart(9)}  ${String(m.accepted).padStart(8)}  ${String(m.won).padStart(3)}  ${m.paidShare.toFixed(4).padStart(10)}  ${m.inZoneShare.toFixed(3).padStart(13)}  ${String(m.uid ?? '-').padStart(3)}  ${m.weight.toFixed(4)}  ${rej}`);
  }
  out.push('', ...formatHeldOut(r.heldOut));
  out.push(...formatChainWeights(r, names));
  const t = r.totals;
  out.push('', `totals: ${t.sealed} sealed, ${t.aborted} aborted, ${t.checkpointsPublished} checkpoints published, mean burned share ${t.burned.toFixed(4)}`);
  out.push(`time: collect ${t.seconds.collect.toFixed(1)} s, proof ${t.seconds.proof.toFixed(1)} s, train ${t.seconds.train.toFixed(1)} s, wall ${t.seconds.wall.toFixed(1)} s`);
  return `${out.join('\n')}\n`;
}

/** The held-out pass@1 lines. */
export function formatHeldOut(h: HeldOutReport): string[] {
  const one = (e: HeldOutEval): string => `${e.passAt1.toFixed(3)} (${e.correct}/${e.problems}; train step ${e.trainStep}, checkpoint ${e.checkpointN}; ${e.seconds.toFixed(1)} s)`;
  return [
    'held-out pass@1 (env-arith held-out split, fixed stream, rollout 0 per problem)',
    `  before    ${one(h.before)}`,
    `  after     ${one(h.after)}`,
    `  change    ${h.delta >= 0 ? '+' : ''}${h.delta.toFixed(3)}`,
  ];
}

/** The chain-weights lines: the last vector set on the local chain. */
export function formatChainWeights(r: Pick<DevnetReport, 'chainWeights'>, names: ReadonlyMap<string, string>): string[] {
  const cw = r.chainWeights;
  if (!cw) return ['', 'chain weights: none set'];
  const rows = cw.uids.map((u, k) => {
    const hk = cw.hotkeys[k];
    const who = u === cw.burnUid ? 'burn (validator)' : hk ? (names.get(hk) ?? `${hk.slice(0, 8)}… (earlier run)`) : '(deregistered)';
    return `  uid ${String(u).padStart(3)}  ${cw.weights[k]!.toFixed(6)}  ${who}`;
  });
  const sum = cw.weights.reduce((a, b) => a + b, 0);
  return ['', `chain weights (local chain, block ${cw.block}; ${cw.submissionsThisRun} set this run; Σ = ${sum.toFixed(6)})`, ...rows];
}

/** The last weights recorded on the local chain, with uid → hotkey from its registry, and this run's submissions. */
export async function chainWeightsOf(validator: Pick<ValidatorHost, 'chain' | 'uid'>, windows: readonly WindowReport[]): Promise<ChainWeights | null> {
  const history = await validator.chain.weights();
  const last = history[history.length - 1];
  if (!last) return null;
  const hotkeyOf = new Map((await validator.chain.registry()).neurons.map((n) => [n.uid, n.hotkey] as const));
  return {
    block: last.block,
    at: last.at,
    burnUid: validator.uid,
    uids: [...last.uids],
    weights: [...last.weights],
    hotkeys: last.uids.map((u) => hotkeyOf.get(u) ?? null),
    submissionsThisRun: windows.filter((w) => w.weights).length,
  };
}
