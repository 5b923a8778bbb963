/**
 * Upstream's Parquet layout for the code environment (spec/training.md §3.4: `R0mAI/opencodeinstruct-curated`,
 * columns `input` and `structured_cases`, a JSON string of cases `{entry:{kind:"function",name}, args, kwargs,
 * expected, compare:"exact"}`), read with `hyparquet` (pure JavaScript, an optional path: nothing else imports
 * this module). Files are concatenated in the order given (upstream: sorted basenames), rows in file order, so
 * the index space matches `VirtualParquetDataset`'s (§3.2). Each row becomes a `CodeRow`: `task = input`, the
 * entry and arity from the first case, one `assert name(*args, **kwargs) == expected` test per case. A row that
 * cannot be converted (no cases, a case that is not a function call) is kept with the reason, never dropped,
 * because dropping would shift every later index: it becomes a problem no completion can pass (its test is
 * `assert False`), which the auction's zone filter never pays for.
 *
 * @example
 *   const rows = await readCodeParquet([await asyncBufferFromFile('train-00000.parquet')]);
 *   const env = envCode({ rows: rows.rows, runner });
 */
import { parquetReadObjects, type AsyncBuffer } from 'hyparquet';
import { caseToTest, type CodeRow } from './problem.ts';

/** What was read: the rows, and the indices of rows that could not be converted, with why. */
export interface CodeParquetRows {
  readonly rows: readonly CodeRow[];
  readonly unusable: readonly { readonly index: number; readonly reason: string }[];
}

/** The CodeRow of one upstream record (throws a TypeError saying why it cannot be one). */
export function codeRowFromUpstream(input: unknown, structuredCases: unknown): CodeRow {
  if (typeof input !== 'string' || input.length === 0) throw new TypeError('"input" must be a non-empty string');
  const cases: unknown = typeof structuredCases === 'string' ? JSON.parse(structuredCases) : structuredCases;
  if (!Array.isArray(cases) || cases.length === 0) throw new TypeError('"structured_cases" must be a non-empty JSON list');
  const tests = cases.map(caseToTest);
  const first = tests[0]!;
  if (tests.some((t) => t.entry !== first.entry)) throw new TypeError('the cases name different functions');
  return { task: input, entry: first.entry, arity: first.arity, tests: tests.map((t) => t.test) };
}

/** Reads every row of the files, in order. */
export async function readCodeParquet(files: readonly AsyncBuffer[]): Promise<CodeParquetRows> {
  const rows: CodeRow[] = [];
  const unusable: { index: number; reason: string }[] = [];
  for (const file of files) {
    const records = (await parquetReadObjects({ file, columns: ['input', 'structured_cases'] })) as Record<string, unknown>[];
    for (const r of records) {
      try {
        rows.push(codeRowFromUpstream(r.input, r.structured_cases));
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        unusable.push({ index: rows.length, reason });
        rows.push({ task: typeof r.input === 'string' && r.input ? r.input : '(unusable row)', entry: 'solution', arity: 0, tests: ['assert False, "this row has no usable test cases"'] });
      }
    }
  }
  return { rows, unusable };
}
