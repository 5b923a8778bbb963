/**
 * `envCode(options)`: the code `Environment` (spec/training.md §3.4, upstream v4 `opencodeinstruct`). Problems
 * come from a JSONL dataset (one `CodeRow` a line: `task`, `entry`, `arity`, `tests`; the shipped
 * `data/problems.jsonl` has 61 of graded difficulty) or from rows already in memory (`rows`, e.g. read from
 * upstream's Parquet layout by `./parquet.ts`). The prompt and ids are upstream's (./problem.ts).
 *
 * Reward = passed / T on the lattice {i/T} (profile `rewardKind: 'fraction'`): the program is the last fenced
 * block defining the entry point (./program.ts; none → 0 without running anything), and it runs against the
 * problem's T tests through the injected `CodeRunner` (core/interfaces/code-runner.ts; on Node,
 * `pyodideSandbox` from hosts/node/sandbox). Grading is asynchronous, so:
 *   - `computeRewardAsync(problem, text)` grades (and remembers the result, keyed by the problem's ground truth
 *     and the completion's hash, in a bounded LRU);
 *   - `computeReward(problem, text)` answers synchronously from that memory (or 0 when there is no program),
 *     and throws `GraderOutage` for a completion that was not graded yet — the market's admission worker turns
 *     that into WORKER_DROPPED (the validator's fault, refunded), never into a miner's penalty. The market's
 *     admission awaits `computeRewardAsync` once a reveal authenticated (core/market/admission-worker.ts
 *     `gradeRevealJsonAsync`); offline callers grade ahead with `gradeAll`.
 * A runner that rejects (sandbox down) is an outage too: `computeRewardAsync` rejects with `GraderOutage`.
 *
 * @example
 *   const env = envCode({ source: fileReader(sampleCodeDatasetPath()), runner: pyodideSandbox() });
 *   const p = env.getProblem(3);
 *   await env.computeRewardAsync(p, '```python\ndef reverse_text(s):\n    return s[::-1]\n```'); // 1
 *   env.computeReward(p, sameText);                                                              // 1, from memory
 */
import type { CodeRunner } from '../../core/interfaces/code-runner.ts';
import type { Environment, EnvironmentSpec, Problem } from '../../core/interfaces/environment.ts';
import { wrapIndex } from '../../core/interfaces/environment.ts';
import { GraderOutage } from '../../core/market/admission-worker.ts';
import { hex, utf8 } from '../../core/protocol/codec.ts';
import { sha256 } from '../../core/protocol/hash.ts';
import { JSONL_DATASET_DEFAULTS, jsonlDataset, type RandomAccessReader } from '../env-math/dataset.ts';
import { codeProblem, parseCodeRow, type CodeProblem, type CodeRow } from './problem.ts';
import { extractProgram } from './program.ts';

export interface EnvCodeOptions {
  /** Wire name (the v4 profile's `opencodeinstruct`). */
  name: string;
  /** A JSONL dataset (one reader, or several concatenated). One of `source` and `rows` is required. */
  source: RandomAccessReader | readonly RandomAccessReader[] | null;
  /** Rows already in memory (e.g. from `readCodeParquet`). */
  rows: readonly CodeRow[] | null;
  /** The sandbox. Without one, every completion with a program is an outage (problems can still be served). */
  runner: CodeRunner | null;
  /** Per-test time limit passed to the runner, ms (undefined: the runner's default). */
  testTimeoutMs: number | undefined;
  /** Per-completion execution budget passed to the runner, ms (undefined: the runner's default). */
  budgetMs: number | undefined;
  /** Graded completions remembered for `computeReward`. */
  cacheEntries: number;
  /** Problems kept in the dataset's LRU. */
  cacheRows: number;
  /** Bytes a chunk while indexing the JSONL. */
  chunkBytes: number;
  /** Self-description for the node's environment set (core/plugins/environment-set.ts). */
  spec: EnvironmentSpec;
}

/** Upstream v4's `opencodeinstruct` entry: 8192 new tokens, rewards on {i/T}, 16 groups, 3 truncations, 20 s. */
export const CODE_ENV_SPEC: Readonly<EnvironmentSpec> = Object.freeze({
  maxNewTokens: 8192,
  rewardKind: 'fraction',
  mixWeight: 16,
  maxTruncatedPerGroup: 3,
  answerFormat: null,
  workerTimeoutSeconds: 20,
});

/** Documented defaults: `opencodeinstruct`, no dataset and no runner (pass them), runner's limits, 4096 remembered grades, upstream's spec. */
export const ENV_CODE_DEFAULTS: Readonly<EnvCodeOptions> = Object.freeze({
  name: 'opencodeinstruct',
  source: null,
  rows: null,
  runner: null,
  testTimeoutMs: undefined,
  budgetMs: undefined,
  cacheEntries: 4096,
  cacheRows: JSONL_DATASET_DEFAULTS.cacheRows,
  chunkBytes: JSONL_DATASET_DEFAULTS.chunkBytes,
  spec: CODE_ENV_SPEC,
});

/** The code environment. */
export interface CodeEnvironment extends Environment {
  readonly answerFormat: null;
  getProblem(i: number): CodeProblem;
  /** Row `i mod size` as read (with `reference` when the dataset has one). */
  row(i: number): CodeRow;
  /** The tests of a problem (the admission lattice has `tests.length + 1` points). */
  rewardCases(problem: Problem): readonly string[];
  computeRewardAsync(problem: Problem, completionText: string): Promise<number>;
  /** Grades several completions of one problem (in parallel, as far as the runner allows). */
  gradeAll(problem: Problem, completionTexts: readonly string[]): Promise<number[]>;
}

/** The code environment over a dataset and a runner. */
export function envCode(options: Partial<EnvCodeOptions> = {}): CodeEnvironment {
  const o: EnvCodeOptions = { ...ENV_CODE_DEFAULTS, ...options };
  const rowAt = rowSource(o);
  const size = rowAt.size;
  if (size === 0) throw new RangeError('envCode: the dataset has no rows');
  const byGroundTruth = new Map<string, CodeProblem>();
  const graded = new Map<string, number>();

  const problemAt = (i: number): CodeProblem => {
    const p = rowAt.problem(wrapIndex(i, size));
    if (byGroundTruth.size > o.cacheRows + 64) byGroundTruth.clear();
    byGroundTruth.set(p.groundTruth, p);
    return p;
  };
  /** The full problem behind a wire `Problem` (the same object when it came from `getProblem`). */
  const resolve = (problem: Problem): CodeProblem | null => {
    const p = problem as Partial<CodeProblem>;
    if (typeof p.entry === 'string' && Array.isArray(p.tests)) return problem as CodeProblem;
    return byGroundTruth.get(problem.groundTruth) ?? null;
  };
  const keyOf = (p: CodeProblem, text: string) => `${p.groundTruth}:${hex(sha256(utf8(text)))}`;
  const remember = (key: string, reward: number) => {
    graded.delete(key);
    graded.set(key, reward);
    if (graded.size > o.cacheEntries) graded.delete(graded.keys().next().value!);
  };

  const computeRewardAsync = async function computeRewardAsync(problem: Problem, completionText: string): Promise<number> {
    const p = resolve(problem);
    if (!p || p.tests.length === 0) return 0;
    const program = extractProgram(completionText, p.entry);
    if (program === null) return 0;
    const key = keyOf(p, completionText);
    const known = graded.get(key);
    if (known !== undefined) return known;
    if (!o.runner) throw new GraderOutage('envCode: no sandbox (runner) is configured');
    let result;
    try {
      result = await o.runner.run({
        program,
        tests: p.tests,
        ...(o.testTimeoutMs !== undefined ? { testTimeoutMs: o.testTimeoutMs } : {}),
        ...(o.budgetMs !== undefined ? { budgetMs: o.budgetMs } : {}),
      });
    } catch (e) {
      throw new GraderOutage(`the code sandbox could not grade: ${e instanceof Error ? e.message : String(e)}`);
    }
    const reward = result.outcomes.length === p.tests.length ? result.passed / p.tests.length : 0;
    remember(key, reward);
    return reward;
  };

  return Object.freeze({
    name: o.name,
    size,
    answerFormat: null,
    spec: o.spec,
    getProblem: problemAt,
    row: function row(i: number): CodeRow {
      return rowAt.row(wrapIndex(i, size));
    },
    rewardCases: function rewardCases(problem: Problem): readonly string[] {
      return resolve(problem)?.tests ?? [];
    },
    computeRewardAsync,
    gradeAll: function gradeAll(problem: Problem, texts: readonly string[]): Promise<number[]> {
      return Promise.all(texts.map((t) => computeRewardAsync(problem, t)));
    },
    computeReward: function computeReward(problem: Problem, completionText: string): number {
      const p = resolve(problem);
      if (!p || p.tests.length === 0) return 0;
      if (extractProgram(completionText, p.entry) === null) return 0;
      const known = graded.get(keyOf(p, completionText));
      if (known !== undefined) return known;
      throw new GraderOutage('envCode: this completion was not graded yet (await computeRewardAsync or gradeAll first)');
    },
  });
}

/** Rows from the JSONL dataset or from memory, each with its problem. */
function rowSource(o: EnvCodeOptions): { size: number; row(i: number): CodeRow; problem(i: number): CodeProblem } {
  if (o.rows) {
    const rows = o.rows.map((r) => parseCodeRow(r));
    const problems = rows.map(codeProblem);
    return { size: rows.length, row: (i) => rows[i]!, problem: (i) => problems[i]! };
  }
  if (o.source === null || o.source === undefined) {
    throw new TypeError('envCode: no dataset; pass `source` (e.g. fileReader(sampleCodeDatasetPath())) or `rows`');
  }
  const ds = jsonlDataset(
    o.source,
    (value) => {
      const row = parseCodeRow(value);
      return { row, problem: codeProblem(row) };
    },
    { cacheRows: o.cacheRows, chunkBytes: o.chunkBytes },
  );
  return { size: ds.size, row: (i) => ds.row(i).row, problem: (i) => ds.row(i).problem };
}
