/**
 * `reliquary bench stages [--quick] [--json] [--backends LIST] [--threads N]`: runs bench/stages.ts (wasm on N threads;
 * default what the Node hosts run: RELIQUARY_WASM_THREADS, else the available cores) and prints one
 * table row per (shape, backend, stage), the matmul roofline of each backend and shape, and the verify/generate
 * ratios; with --json, the report object on stdout (progress and notes on stderr).
 */
import { wasmThreads } from '../kernels/wasm/node.ts';
import { benchStages, STAGE_BACKENDS, type StagesReport } from './stages.ts';
import { fmt } from './table.ts';

export interface BenchStagesFlags {
  json?: boolean;
  quick?: boolean;
  backends?: string;
  threads?: string;
}

interface Streams {
  out: (text: string) => void;
  err: (text: string) => void;
}

const STDIO: Streams = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

const mib = (b: number | null): string => (b === null ? '' : (b / 2 ** 20).toFixed(0));
const pct = (x: number | null): string => (x === null ? '' : `${(100 * x).toFixed(0)}%`);

/** The report as fixed-width lines. */
export function formatStages(r: StagesReport): string[] {
  const head = ['shape', 'backend', 'stage', 'tokens', 'ms', 'CPU ms', 'tok/s', 'GFLOP/s', 'of matmul', 'of matmul (CPU)', 'peak RSS MiB', 'wasm MiB', 'note'];
  const body = r.rows.map((x) => [
    x.shape, x.backend, x.stage, String(x.tokens), fmt(x.ms), fmt(x.cpu_ms), fmt(x.tokens_per_s), x.gflops === null ? '' : fmt(x.gflops),
    pct(x.roofline), pct(x.roofline_cpu), mib(x.peak_rss_bytes), mib(x.wasm_memory_bytes), x.note,
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(width[i]!))).join('  ').trimEnd();
  return [
    line(head), line(width.map((w) => '-'.repeat(w))), ...body.map(line), '',
    'roofline (matmul of each shape, same run):',
    ...r.matmul.map((m) => `  ${m.shape} ${m.backend}: ${fmt(m.gflops)} GFLOP/s, ${fmt(m.gflops_per_cpu_s)} GFLOP per CPU-second (${m.problem})`),
    'verification / generation (completion tokens/s):',
    ...r.ratios.map((x) => `  ${x.shape} ${x.backend}: ${fmt(x.verify_over_generate)}×${x.work_ratio === null ? '' : ` (generation does ${fmt(x.work_ratio)}× the FLOPs of verification)`}`),
    ...(r.notes.length ? ['left out:', ...r.notes.map((n) => `  ${n.shape} ${n.backend}: ${n.reason}`)] : []),
  ];
}

/** Runs the stage bench for the CLI; returns the exit code (2 on a bad flag, 1 when nothing could be measured). */
export async function benchStagesCommand(flags: BenchStagesFlags, io: Streams = STDIO): Promise<number> {
  const backends = flags.backends?.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = backends?.filter((b) => !(STAGE_BACKENDS as readonly string[]).includes(b)) ?? [];
  const threads = flags.threads === undefined ? wasmThreads() : Number(flags.threads);
  if (unknown.length > 0 || !Number.isInteger(threads) || threads < 1 || threads > 64) {
    io.err(`bench stages: ${unknown.length ? `unknown backend ${unknown.join(', ')} (have ${STAGE_BACKENDS.join(', ')})` : `bad --threads ${flags.threads}`}\n`);
    return 2;
  }
  const report = await benchStages({ quick: flags.quick ?? false, ...(backends ? { backends } : {}), threads, log: (l) => io.err(`  ${l}\n`) });
  if (flags.json) {
    for (const line of report.machine) io.err(`${line}\n`);
    io.out(`${JSON.stringify(report, null, 1)}\n`);
  } else {
    io.out(`${[...report.machine, '', ...formatStages(report)].join('\n')}\n`);
  }
  return report.rows.length > 0 ? 0 : 1;
}
