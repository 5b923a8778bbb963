/**
 * `reliquary bench kernels [--quick] [--json] [--threads N[,M…]]`: runs bench/kernels.ts and prints the table (or, with --json, the
 * array of rows `{bench, backend, shape, value, unit}` on stdout). Progress, the machine and the left-out cells go
 * to stderr in JSON mode so stdout stays one JSON document.
 */
import { benchGrading } from './grading.ts';
import { BACKENDS, benchKernels, type BenchSize } from './kernels.ts';
import { formatTable } from './table.ts';

export interface BenchKernelsFlags {
  json?: boolean;
  quick?: boolean;
  /** Comma-separated subset of ref,wasm,webgpu. */
  backends?: string;
  /** commander's `--no-peers` sets this false. */
  peers?: boolean;
  /** Comma-separated thread counts of the wasm backend, one column each (`--threads 2` runs 1 and 2). */
  threads?: string;
}

/** The wasm thread counts of `--threads`: "2" → [1, 2] (1 always, as the baseline), "1,2,4" → [1, 2, 4]. */
export function parseThreads(flag: string | undefined): number[] | string {
  if (flag === undefined) return [1];
  const ns = flag.split(',').map((s) => Number(s.trim()));
  if (ns.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) return `bad --threads ${flag} (integers 1 … 64)`;
  return [...new Set([1, ...ns])].sort((a, b) => a - b);
}

interface Streams {
  out: (text: string) => void;
  err: (text: string) => void;
}

const STDIO: Streams = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/** Runs the kernel bench for the CLI; returns the exit code (2 on a bad flag, 1 when nothing could be measured). */
export async function benchKernelsCommand(flags: BenchKernelsFlags, io: Streams = STDIO, size?: BenchSize): Promise<number> {
  const backends = flags.backends?.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = backends?.filter((b) => !(BACKENDS as readonly string[]).includes(b)) ?? [];
  if (unknown.length > 0) {
    io.err(`bench kernels: unknown backend ${unknown.join(', ')} (have ${BACKENDS.join(', ')})\n`);
    return 2;
  }
  const threads = parseThreads(flags.threads);
  if (typeof threads === 'string') {
    io.err(`bench kernels: ${threads}\n`);
    return 2;
  }
  const report = await benchKernels({
    threads,
    size: size ?? (flags.quick ? 'quick' : 'full'),
    ...(backends ? { backends } : {}),
    peers: flags.peers !== false,
    log: (line) => io.err(`  ${line}\n`),
  });
  if (flags.json) {
    for (const line of report.machine) io.err(`${line}\n`);
    for (const n of report.notes) io.err(`left out: ${n.bench} ${n.shape} ${n.backend}: ${n.reason}\n`);
    io.out(`${JSON.stringify(report.rows, null, 1)}\n`);
  } else {
    const lines = [...report.machine, '', ...formatTable(report.rows, report.notes, report.peers)];
    io.out(`${lines.join('\n')}\n`);
  }
  return report.rows.length > 0 ? 0 : 1;
}

/** `reliquary bench grading [--json] [--quick]`: the code environment's grading throughput (bench/grading.ts). */
export async function benchGradingCommand(flags: { json?: boolean; quick?: boolean }, io: Streams = STDIO): Promise<number> {
  const { rows } = await benchGrading({
    ...(flags.quick ? { warmCompletions: 12, freshCompletions: 2 } : {}),
    log: (line) => io.err(`  ${line}\n`),
  });
  io.out(flags.json ? `${JSON.stringify(rows, null, 1)}\n` : `${formatTable(rows, [], []).join('\n')}\n`);
  return rows.length > 0 ? 0 : 1;
}
