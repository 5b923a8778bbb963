/**
 * Code problems (spec/training.md §3.4, upstream `opencodeinstruct`): a task text, the name and arity of the
 * function to write, and test statements. The prompt is rendered as upstream renders it:
 *
 *   task + "\n\nWrite your solution as a Python function named `NAME` that takes N argument[s] and returns the
 *   result; do not read from stdin or print."            ("argument" when N == 1)
 *
 * `id = sha256(prompt)[:16]` and `groundTruth = sha256(id + compact sorted-key JSON(tests))[:16]` (hex), so the
 * ground truth commits to the exact tests. Test statements are Python (`assert f(1, 2) == 3`); upstream's
 * structured cases (`{entry:{kind:"function",name}, args, kwargs, expected}`) are rendered into that form by
 * `caseToTest`.
 */
import type { Problem } from '../../core/interfaces/environment.ts';
import { hex, utf8 } from '../../core/protocol/codec.ts';
import { sha256 } from '../../core/protocol/hash.ts';
import { isEntryName } from './program.ts';

/** One dataset row. */
export interface CodeRow {
  /** Problem statement, without the entry-point sentence. */
  readonly task: string;
  /** Name of the function the solution defines. */
  readonly entry: string;
  /** Number of positional arguments it takes. */
  readonly arity: number;
  /** Python statements, each a test (typically `assert entry(…) == …`). */
  readonly tests: readonly string[];
  /** 1 (easy) … 3 (hard), when the dataset says. */
  readonly difficulty?: number;
  /** A known-good solution, when the dataset ships one (never shown to miners). */
  readonly reference?: string;
}

/** A code problem: the wire `Problem` plus what grading needs. */
export interface CodeProblem extends Problem {
  readonly entry: string;
  readonly tests: readonly string[];
}

/** The exact prompt of a row (upstream's sentence appended). */
export function codePrompt(task: string, entry: string, arity: number): string {
  return `${task}\n\nWrite your solution as a Python function named \`${entry}\` that takes ${arity} argument${arity === 1 ? '' : 's'} and returns the result; do not read from stdin or print.`;
}

const sha16 = (s: string): string => hex(sha256(utf8(s))).slice(0, 16);

/** JSON with keys sorted at every level and no spaces (Python's `json.dumps(sort_keys=True, separators=(",", ":"))` for plain data). */
export function compactSortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(compactSortedJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${compactSortedJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The problem of a row. */
export function codeProblem(row: CodeRow): CodeProblem {
  const prompt = codePrompt(row.task, row.entry, row.arity);
  const id = sha16(prompt);
  return Object.freeze({ prompt, id, groundTruth: sha16(id + compactSortedJson(row.tests)), entry: row.entry, tests: Object.freeze([...row.tests]) });
}

/** Validates one parsed JSONL value as a code row (throws a TypeError saying what is wrong). */
export function parseCodeRow(value: unknown): CodeRow {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TypeError('a row must be a JSON object');
  const v = value as Record<string, unknown>;
  if (typeof v.task !== 'string' || v.task.length === 0) throw new TypeError('"task" must be a non-empty string');
  if (typeof v.entry !== 'string' || !isEntryName(v.entry)) throw new TypeError('"entry" must be a Python identifier');
  if (!Number.isSafeInteger(v.arity) || (v.arity as number) < 0) throw new TypeError('"arity" must be an integer ≥ 0');
  if (!Array.isArray(v.tests) || v.tests.length === 0 || !v.tests.every((t) => typeof t === 'string' && t.length > 0)) {
    throw new TypeError('"tests" must be a non-empty list of Python statements');
  }
  const row: CodeRow = { task: v.task, entry: v.entry, arity: v.arity as number, tests: v.tests as string[] };
  return {
    ...row,
    ...(typeof v.difficulty === 'number' ? { difficulty: v.difficulty } : {}),
    ...(typeof v.reference === 'string' ? { reference: v.reference } : {}),
  };
}

/** A JSON value as a Python literal (`null` → None, `true` → True, strings with Python escapes, ints exact). */
export function pyLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return "float('nan')";
    if (!Number.isFinite(v)) return v > 0 ? "float('inf')" : "float('-inf')";
    return Number.isInteger(v) && Math.abs(v) < 2 ** 53 && !Object.is(v, -0) ? String(v) : floatRepr(v);
  }
  if (typeof v === 'string') return JSON.stringify(v); // JSON's escapes (\" \\ \n \uXXXX …) are valid Python escapes
  if (Array.isArray(v)) return `[${v.map(pyLiteral).join(', ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .map((k) => `${JSON.stringify(k)}: ${pyLiteral(o[k])}`)
      .join(', ')}}`;
  }
  throw new TypeError(`cannot write a ${typeof v} as a Python literal`);
}

function floatRepr(v: number): string {
  if (Object.is(v, -0)) return '-0.0';
  const s = String(v);
  return /[.e]/.test(s) ? s.replace('e+', 'e') : `${s}.0`;
}

/** Upstream's structured case as a test statement: `assert name(*args, **kwargs) == expected`. */
export function caseToTest(c: unknown): { entry: string; arity: number; test: string } {
  if (c === null || typeof c !== 'object') throw new TypeError('a case must be an object');
  const k = c as Record<string, unknown>;
  const e = k.entry as Record<string, unknown> | undefined;
  if (!e || e.kind !== 'function' || typeof e.name !== 'string' || !isEntryName(e.name)) throw new TypeError('case.entry must be {kind:"function", name}');
  const args = Array.isArray(k.args) ? k.args : [];
  const kwargs = k.kwargs && typeof k.kwargs === 'object' && !Array.isArray(k.kwargs) ? (k.kwargs as Record<string, unknown>) : {};
  const parts = [...args.map(pyLiteral), ...Object.keys(kwargs).map((n) => {
    if (!isEntryName(n)) throw new TypeError(`keyword ${JSON.stringify(n)} is not an identifier`);
    return `${n}=${pyLiteral(kwargs[n])}`;
  })];
  return { entry: e.name, arity: args.length, test: `assert ${e.name}(${parts.join(', ')}) == ${pyLiteral(k.expected)}` };
}
