/**
 * The grading schedule of one job, independent of how a worker is reached: a generator that yields one request
 * at a time (`load` the program, or run one `test`) with its time limit, and receives what happened. The async
 * pool (./pool.ts) and the synchronous runner (./sync.ts) drive the same schedule, so the semantics of
 * core/interfaces/code-runner.ts live in one place:
 *
 *   1. `load`: the program runs once (fresh namespace); a raise, a timeout or a crash fails every test.
 *   2. each test in order: the worker re-executes the program in a fresh namespace and judges the test; a test
 *      that times out or kills the interpreter fails alone, the driver replaces the worker, and the next test
 *      first re-loads the program in the fresh interpreter (that time counts against the budget);
 *   3. execution time is summed; once `budgetMs` is spent the remaining tests fail with `budget`, and a test's
 *      limit is never more than what is left of the budget.
 *
 * A driver's duty: run each request on a live worker within its `timeoutMs`; on a timeout or a crash, discard
 * that worker so that the next request reaches a fresh interpreter.
 */
import type { CodeJob, CodeRunResult, TestOutcome } from '../../../core/interfaces/code-runner.ts';

/** The runner's defaults for a job that names no limits. */
export interface GradingLimits {
  readonly testTimeoutMs: number;
  readonly budgetMs: number;
}

/** One request to a worker. */
export interface WorkerRequest {
  readonly op: 'load' | 'test';
  readonly src: string;
  readonly timeoutMs: number;
}

/** What a worker did with a request: its reply, or no reply in time, or it died. */
export type WorkerReply = { readonly kind: 'reply'; readonly outcome: string; readonly detail: string } | { readonly kind: 'timeout' } | { readonly kind: 'crash'; readonly detail: string };

/** A reply and the wall time the request took (the program's execution, not any wait for a worker). */
export interface StepResult {
  readonly reply: WorkerReply;
  readonly ms: number;
}

const JUDGED: ReadonlySet<string> = new Set(['pass', 'fail', 'error', 'program']);

/** The schedule of one job (see the module comment). */
export function* gradeJob(job: CodeJob, limits: GradingLimits): Generator<WorkerRequest, CodeRunResult, StepResult> {
  const T = job.tests.length;
  const perTest = Math.max(1, job.testTimeoutMs ?? limits.testTimeoutMs);
  const budget = Math.max(1, job.budgetMs ?? limits.budgetMs);
  const outcomes: TestOutcome[] = new Array<TestOutcome>(T).fill('budget');
  const details: string[] = new Array<string>(T).fill(`the job's ${budget} ms budget ran out before this test`);
  let spent = 0;
  const done = (programError: string | null): CodeRunResult => ({
    outcomes,
    details,
    programError,
    passed: outcomes.filter((o) => o === 'pass').length,
  });
  const failAll = (from: number, outcome: TestOutcome, detail: string) => {
    for (let i = from; i < T; i++) {
      outcomes[i] = outcome;
      details[i] = detail;
    }
  };
  /** Loads the program; null when it ran, else why it failed. */
  function* load(): Generator<WorkerRequest, string | null, StepResult> {
    const limit = Math.min(perTest, budget - spent);
    const r = yield { op: 'load', src: job.program, timeoutMs: limit };
    spent += r.ms;
    if (r.reply.kind === 'timeout' && limit < perTest) spent = Math.max(spent, budget); // cut by the budget: it is spent
    if (r.reply.kind === 'timeout') return `the program did not finish within ${limit} ms`;
    if (r.reply.kind === 'crash') return `the interpreter died running the program: ${r.reply.detail}`;
    return r.reply.outcome === 'pass' ? null : r.reply.detail || 'the program failed';
  }
  if (T === 0) return done(null);
  const first = yield* load();
  if (first !== null) {
    failAll(0, 'program', first);
    return done(first);
  }
  let loaded = true;
  for (let i = 0; i < T; i++) {
    if (budget - spent <= 0) break;
    if (!loaded) {
      const again = yield* load();
      if (again !== null) {
        if (budget - spent > 0) failAll(i, 'crash', `the program failed when re-run in a fresh interpreter: ${again}`);
        break;
      }
      loaded = true;
      if (budget - spent <= 0) break;
    }
    const limit = Math.min(perTest, budget - spent);
    const r = yield { op: 'test', src: job.tests[i]!, timeoutMs: limit };
    spent += r.ms;
    if (r.reply.kind === 'timeout') {
      // A timeout at a budget-cut limit spends the whole budget (the measured ms can fall a hair short of the limit,
      // and the leftover must not start a re-load that is bound to time out and read as a crash).
      if (limit < perTest) spent = Math.max(spent, budget);
      outcomes[i] = limit < perTest ? 'budget' : 'timeout';
      details[i] = `no result within ${limit} ms`;
      loaded = false;
    } else if (r.reply.kind === 'crash') {
      outcomes[i] = 'crash';
      details[i] = r.reply.detail;
      loaded = false;
    } else {
      outcomes[i] = JUDGED.has(r.reply.outcome) ? (r.reply.outcome as TestOutcome) : 'error';
      details[i] = r.reply.outcome === 'pass' ? '' : r.reply.detail;
    }
  }
  return done(null);
}
