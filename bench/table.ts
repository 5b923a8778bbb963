/**
 * Formatting of the kernel bench: the rows as a fixed-width table, with each of our backends' ratio against each peer
 * on the same bench and shape ("wasm/tfjs-wasm 1.12×": above 1 we are faster).
 */

/** One measurement: `value` in `unit` for one backend on one bench and shape. */
export interface BenchRow {
  bench: string;
  backend: string;
  shape: string;
  value: number;
  unit: string;
  /** The value from CPU time instead of wall time (bench/kernels.ts: every thread of the process), where measured. */
  value_cpu?: number;
}

/** A cell left out on purpose (too slow on that backend, over a device limit, a missing op or peer), and why. */
export interface BenchNote {
  bench: string;
  shape: string;
  backend: string;
  reason: string;
}

/** Units where smaller is better (a latency); every other unit is a rate. */
const TIME_UNITS = new Set(['µs', 'ms', 's']);

/** How many times better `ours` is than `peer` (rates: ours/peer; latencies: peer/ours). */
export function speedup(ours: BenchRow, peer: BenchRow): number {
  return TIME_UNITS.has(ours.unit) ? peer.value / ours.value : ours.value / peer.value;
}

export interface Ratio {
  bench: string;
  shape: string;
  ours: string;
  peer: string;
  ratio: number;
}

/** Backends never compared with the peers: `ref` is the float64 reference, slow by design. */
const NOT_CONTENDERS = new Set(['ref']);

/** Ratios of each of our rows (ref aside) against every peer row on the same bench, shape and unit. */
export function peerRatios(rows: readonly BenchRow[], peers: readonly string[]): Ratio[] {
  const out: Ratio[] = [];
  for (const r of rows) {
    if (peers.includes(r.backend) || NOT_CONTENDERS.has(r.backend)) continue;
    for (const p of rows) {
      if (!peers.includes(p.backend) || p.bench !== r.bench || p.shape !== r.shape || p.unit !== r.unit) continue;
      out.push({ bench: r.bench, shape: r.shape, ours: r.backend, peer: p.backend, ratio: speedup(r, p) });
    }
  }
  return out;
}

/** A value with 3 significant digits (no exponent for the ranges a bench sees). */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toString();
  if (a >= 100) return v.toFixed(1);
  if (a >= 10) return v.toFixed(2);
  return v.toFixed(3);
}

function pad(cells: readonly string[], widths: readonly number[], right: ReadonlySet<number>): string {
  return cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
}

/** The rows as a table: bench, shape, backend, value, unit, then the ratio against each peer where it has a row. */
export function formatTable(rows: readonly BenchRow[], notes: readonly BenchNote[], peers: readonly string[]): string[] {
  const ratios = peerRatios(rows, peers);
  const cpu = rows.some((r) => r.value_cpu !== undefined);
  const head = ['bench', 'shape', 'backend', 'value', ...(cpu ? ['CPU-time value'] : []), 'unit', ...peers.map((p) => `vs ${p}`)];
  const body = rows.map((r) => [
    r.bench,
    r.shape,
    r.backend,
    fmt(r.value),
    ...(cpu ? [r.value_cpu === undefined ? '' : fmt(r.value_cpu)] : []),
    r.unit,
    ...peers.map((p) => {
      const x = ratios.find((q) => q.ours === r.backend && q.peer === p && q.bench === r.bench && q.shape === r.shape);
      return x ? `${x.ratio.toFixed(2)}×` : '';
    }),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const first = cpu ? 6 : 5;
  const right = new Set([3, ...(cpu ? [4] : []), ...peers.map((_, i) => first + i)]);
  const lines = [pad(head, widths, right), widths.map((w) => '-'.repeat(w)).join('  ')];
  let last = '';
  for (const b of body) {
    if (last && b[0] !== last) lines.push('');
    last = b[0]!;
    lines.push(pad(b, widths, right));
  }
  if (notes.length > 0) {
    lines.push('', 'left out:');
    for (const n of notes) lines.push(`  ${n.bench} ${n.shape} ${n.backend}: ${n.reason}`);
  }
  if (ratios.length > 0) {
    lines.push('', 'ratios (ours/peer, above 1 = ours faster):');
    for (const q of ratios) lines.push(`  ${q.bench} ${q.shape}: ${q.ours}/${q.peer} ${q.ratio.toFixed(2)}×`);
  }
  return lines;
}
