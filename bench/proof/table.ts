/**
 * Text form of the `reliquary bench proof` report (bench/proof.ts): the forgery table (attack → groups tried →
 * accepted → accepted_differing → reject reasons, and for the sketch rows positions passed / tried), the honest
 * false-reject matrix, the calibration figures with the profile's values and margins, and the cost table.
 */
import type { AttackRow } from './attacks.ts';
import type { CalibratedValue, Calibration } from './calibrate.ts';
import type { CostRow, HonestRow } from './honest.ts';

/** Fixed-width columns: the first left-aligned, the others right-aligned unless `left` says so. */
export function columns(head: readonly string[], body: readonly (readonly string[])[], left: ReadonlySet<number> = new Set([0])): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (left.has(i) ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ').trimEnd();
  return [line(head), w.map((x) => '-'.repeat(x)).join('  '), ...body.map(line)];
}

const reasons = (r: Record<string, number>): string => Object.entries(r).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
const num = (v: number | null, digits = 3): string => (v === null ? '—' : v === 0 ? '0' : Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5 ? v.toExponential(2) : v.toPrecision(digits));

export function formatAttacks(rows: readonly AttackRow[]): string[] {
  return columns(
    ['attack', 'groups', 'accepted', 'accepted_differing', 'positions passed/tried', 'reject reasons'],
    rows.map((r) => [
      r.attack, String(r.groups), String(r.accepted), String(r.accepted_differing),
      r.positions ? `${r.positions.passed}/${r.positions.tried} (${num(r.positions.rate)})` : '',
      reasons(r.reasons) + (r.skipped ? ` [${r.skipped} draws n/a]` : ''),
    ]),
    new Set([0, 5]),
  );
}

export function formatHonest(rows: readonly HonestRow[]): string[] {
  const total = rows.reduce((a, r) => a + r.groups, 0);
  const bad = rows.reduce((a, r) => a + r.rejected, 0);
  return [
    ...columns(['producer→verifier', 'groups', 'rejected', 'reasons'], rows.map((r) => [`${r.producer}→${r.verifier}`, String(r.groups), String(r.rejected), reasons(r.reasons)]), new Set([0, 3])),
    `total: ${bad} of ${total} honest groups rejected over ${rows.length} pairs`,
  ];
}

export function formatCalibration(c: Calibration): string[] {
  const row = (name: string, field: string, v: CalibratedValue): string[] => [name, num(v.measured), `${field} = ${v.chosen}`, v.margin === null ? '∞' : `${num(v.margin)}×`, String(v.positions)];
  return [
    ...columns(['drift', 'measured max', 'chosen', 'margin', 'positions'], [
      row('|Δ logprob|', 'logprobMaxAbs', c.logprob),
      row('u to CDF interval', 'cdfEpsilon', c.cdf),
      row('|Δ CDF boundary|', 'cdfEpsilon', c.cdfBoundary),
      row('|Δ hidden|', 'sketchAmbiguity', c.hidden),
    ], new Set([0, 2])),
    `ε-ambiguous honest positions (u within cdfEpsilon of its interval's boundary: a neighbouring token passes too): ${c.epsilonAmbiguous.positions} of ${c.epsilonAmbiguous.of} (${num(c.epsilonAmbiguous.share)})`,
    `pairs: ${c.pairs.join(', ')}`,
    c.note,
  ];
}

export function formatCost(cost: Readonly<Record<string, CostRow>>): string[] {
  return columns(['backend', 'generate ms/group', 'verify ms/group', 'verify/generate', 'generated', 'verified'],
    Object.entries(cost).map(([b, c]) => [b, num(c.generate_ms_per_group), num(c.verify_ms_per_group), num(c.ratio), String(c.groups_generated), String(c.groups_verified)]));
}
