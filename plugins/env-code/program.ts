/**
 * The graded program of a code completion (issue 15 §2): the **last** fenced code block — opened by three
 * backticks with a `python`/`python3`/`py` tag or none, closed by three backticks on their own — whose text
 * defines the entry point (`def <entry>(`). A completion with no such block has no program and scores 0 without
 * running anything. (Upstream's v4 rule, `codeExtract` in ./extract.ts, takes the last block of any content and
 * falls back to the whole text; this one refuses prose and blocks that do not define the function.)
 *
 * @example
 *   extractProgram('Here:\n```python\ndef add(a, b):\n    return a + b\n```', 'add'); // 'def add(a, b):\n    return a + b'
 *   extractProgram('def add(a, b): return a + b', 'add');                             // null (not fenced)
 */

const BLOCK_RE = /```(?:python3?|py)?[ \t]*\r?\n([\s\S]*?)\r?\n[ \t]*```/g;

/** Whether `entry` is a plain Python identifier (the only kind of entry point a problem may name). */
export function isEntryName(entry: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(entry);
}

/** The program of `text` for entry point `entry`, or null when no fenced block defines it. */
export function extractProgram(text: string, entry: string): string | null {
  if (!text || !isEntryName(entry)) return null;
  const defines = new RegExp(`(^|[^A-Za-z0-9_])def\\s+${entry}\\s*\\(`);
  let last: string | null = null;
  for (const m of text.matchAll(BLOCK_RE)) {
    const body = m[1] ?? '';
    if (defines.test(body)) last = body;
  }
  return last;
}
