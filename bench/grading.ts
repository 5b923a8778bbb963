/**
 * `reliquary bench grading`: throughput of the code environment's grading (issue 15) — tests per second through
 * the pyodide sandbox (hosts/node/sandbox) on the shipped problems' reference solutions, with warm interpreters
 * (the production mode: a pool kept loaded, a fresh namespace per test) and without (a new interpreter for every
 * completion, started from the memory snapshot), plus what an interpreter costs to load: the first one of the
 * process (full Python initialisation) and a replacement (from the snapshot).
 *
 * @example
 *   const report = await benchGrading({ warmCompletions: 61, freshCompletions: 4 });
 *   report.rows; // [{ bench: 'grading', backend: 'pyodide warm ×2', shape: '61 completions, 262 tests', value: …, unit: 'tests/s' }, …]
 */
import { fileReader } from '../plugins/env-math/dataset-node.ts';
import { envCode } from '../plugins/env-code/environment.ts';
import { sampleCodeDatasetPath } from '../plugins/env-code/dataset-node.ts';
import { pyodideSandbox } from '../hosts/node/sandbox/pool.ts';
import type { BenchRow } from './table.ts';

export interface BenchGradingOptions {
  /** Completions graded with warm interpreters (the shipped references, cycled). */
  warmCompletions: number;
  /** Completions graded with a fresh interpreter each. */
  freshCompletions: number;
  /** Warm interpreters in the pool. */
  workers: number;
  log: (line: string) => void;
}

/** Documented defaults: every shipped problem once warm, 4 fresh, 2 workers. */
export const BENCH_GRADING_DEFAULTS: Readonly<BenchGradingOptions> = Object.freeze({ warmCompletions: 61, freshCompletions: 4, workers: 2, log: () => {} });

const fenced = (code: string) => '```python\n' + code + '\n```';

/** Runs the grading bench; every graded reference must score 1 (else it throws: the numbers would be meaningless). */
export async function benchGrading(options: Partial<BenchGradingOptions> = {}): Promise<{ rows: BenchRow[] }> {
  const o: BenchGradingOptions = { ...BENCH_GRADING_DEFAULTS, ...options };
  const rows: BenchRow[] = [];
  const reader = fileReader(sampleCodeDatasetPath());
  const probe = envCode({ source: reader });
  const pick = (n: number) => Array.from({ length: n }, (_, i) => i % probe.size);
  const testsOf = (idx: number[]) => idx.reduce((s, i) => s + probe.row(i).tests.length, 0);

  const grade = async (runner: ReturnType<typeof pyodideSandbox>, idx: number[], parallel: boolean) => {
    const env = envCode({ source: reader, runner }); // a new env: nothing remembered from an earlier run
    const one = async (i: number) => {
      const r = await env.computeRewardAsync(env.getProblem(i), fenced(env.row(i).reference ?? ''));
      if (r !== 1) throw new Error(`bench grading: the reference of ${env.row(i).entry} scored ${r}`);
    };
    const t0 = performance.now();
    if (parallel) await Promise.all(idx.map(one));
    else for (const i of idx) await one(i);
    return (performance.now() - t0) / 1000;
  };

  let t0 = performance.now();
  const warm = pyodideSandbox({ workers: o.workers });
  try {
    await warm.ready();
    const loadS = (performance.now() - t0) / 1000;
    o.log(`${o.workers} warm interpreters loaded in ${loadS.toFixed(1)} s`);
    const idx = pick(o.warmCompletions);
    const s = await grade(warm, idx, true);
    const T = testsOf(idx);
    rows.push({ bench: 'grading', backend: `pyodide warm ×${o.workers}`, shape: `${idx.length} completions, ${T} tests`, value: T / s, unit: 'tests/s' });
    rows.push({ bench: 'grading', backend: `pyodide warm ×${o.workers}`, shape: `${idx.length} completions`, value: idx.length / s, unit: 'completions/s' });
  } finally {
    await warm.close();
  }

  t0 = performance.now();
  const fresh = pyodideSandbox({ workers: 1, reuse: false });
  try {
    await fresh.ready();
    rows.push({ bench: 'interpreter load', backend: 'pyodide (snapshot)', shape: 'one worker', value: performance.now() - t0, unit: 'ms' });
    const idx = pick(o.freshCompletions);
    const s = await grade(fresh, idx, false);
    const T = testsOf(idx);
    rows.push({ bench: 'grading', backend: 'pyodide fresh per completion', shape: `${idx.length} completions, ${T} tests`, value: T / s, unit: 'tests/s' });
    o.log(`fresh interpreters: ${fresh.stats().started} started`);
  } finally {
    await fresh.close();
  }
  return { rows };
}
