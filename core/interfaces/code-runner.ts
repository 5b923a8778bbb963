/**
 * CodeRunner: the seam through which the code environment runs an untrusted program against its test cases
 * (spec/training.md §3.4; issue 15). Core defines the contract; a host implements it (Node: `pyodideSandbox` in
 * hosts/node/sandbox, CPython in WebAssembly inside worker_threads), and the environment (`plugins/env-code`) or
 * the validator receives it by injection, so nothing in core or in the plugin touches a thread, a process or a
 * file.
 *
 * Semantics every runner implements (the environment's reward is `passed / tests.length`):
 *   - `program` runs once in a fresh namespace; if it raises (a SyntaxError, SystemExit, any exception) or
 *     overruns its time, every test fails (`programError` says why);
 *   - each test is a Python statement (typically `assert f(x) == y`) run after the program in a namespace no
 *     earlier test could have touched; it passes iff it completes without raising within `testTimeoutMs`;
 *   - a test that hangs fails and the rest still run (in a fresh interpreter, the program executed again);
 *   - once `budgetMs` of execution is spent, the remaining tests fail (`budget`).
 * `run` resolves for every program, however hostile; it rejects only when the runner itself cannot run
 * (closed, failed to start): that is the validator's fault (a grader outage), never the miner's.
 *
 * @example
 *   const r = await runner.run({ program: 'def add(a, b):\n    return a + b', tests: ['assert add(1, 2) == 3'] });
 *   r.passed / r.outcomes.length; // 1
 */

/** One program and its tests. Limits left out take the runner's defaults. */
export interface CodeJob {
  readonly program: string;
  readonly tests: readonly string[];
  /** Wall time one test (or the program's first run) may take, ms. */
  readonly testTimeoutMs?: number;
  /** Execution time the whole job may take, ms; tests not reached by then fail. */
  readonly budgetMs?: number;
}

/**
 * What happened to one test: `pass`; `fail` (an AssertionError, or a comparison that does not hold); `error`
 * (any other exception, or output over the cap); `timeout`; `crash` (the interpreter died: stack overflow,
 * memory, `os._exit`); `program` (the program itself failed, so no test ran); `budget` (not reached in time).
 */
export type TestOutcome = 'pass' | 'fail' | 'error' | 'timeout' | 'crash' | 'program' | 'budget';

/** The verdict on one job. */
export interface CodeRunResult {
  /** One outcome per test, in order. */
  readonly outcomes: readonly TestOutcome[];
  /** Number of `pass` outcomes. */
  readonly passed: number;
  /** Why the program failed before any test (e.g. `SyntaxError: …`, `ImportError: …`), or null. */
  readonly programError: string | null;
  /** A short reason per failed test ('' for a pass), for logs; never used for scoring. */
  readonly details: readonly string[];
}

/** Runs untrusted programs against tests; see the module comment for the contract. */
export interface CodeRunner {
  run(job: CodeJob): Promise<CodeRunResult>;
}

/** `passed / tests`, 0 for a job without tests. */
export function passFraction(r: Pick<CodeRunResult, 'passed' | 'outcomes'>): number {
  return r.outcomes.length === 0 ? 0 : r.passed / r.outcomes.length;
}
