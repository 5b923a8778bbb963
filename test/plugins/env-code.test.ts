/**
 * The code environment without a sandbox: the shipped dataset, upstream's prompt and ids, the graded-program
 * rule, the synchronous reward contract (memory, 0 without a program, an outage otherwise), the Parquet loader
 * for upstream's layout (a tiny file written with hyparquet-writer), and the plugin registration. Grading through
 * the real sandbox is in env-code-sandbox.test.ts.
 */
import { readFileSync } from 'node:fs';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { safeReward } from '../../core/interfaces/environment.ts';
import { GraderOutage } from '../../core/market/admission-worker.ts';
import { createRegistry } from '../../core/plugins/index.ts';
import { V4 } from '../../core/profile/index.ts';
import { fileReader } from '../../plugins/env-math/dataset-node.ts';
import { bytesReader } from '../../plugins/env-math/dataset.ts';
import { codePrompt, envCode, envCodePlugin, extractProgram, parseCodeRow, pyLiteral } from '../../plugins/env-code/index.ts';
import { sampleCodeDatasetPath } from '../../plugins/env-code/dataset-node.ts';
import { codeRowFromUpstream, readCodeParquet } from '../../plugins/env-code/parquet.ts';

const F = '```';
const env = envCode({ source: fileReader(sampleCodeDatasetPath()) });

describe('the shipped dataset', () => {
  it('has 61 problems of graded difficulty, each with an entry point, tests and a reference solution', () => {
    expect(env.size).toBe(61);
    const rows = Array.from({ length: env.size }, (_, i) => env.row(i));
    expect(new Set(rows.map((r) => r.difficulty))).toEqual(new Set([1, 2, 3]));
    for (const r of rows) {
      expect(r.tests.length).toBeGreaterThanOrEqual(3);
      expect(r.tests.every((t) => t.startsWith(`assert ${r.entry}(`))).toBe(true);
      expect(extractProgram(`${F}python\n${r.reference}\n${F}`, r.entry)).not.toBeNull();
    }
    expect(new Set(rows.map((r) => r.entry)).size).toBe(61);
  });

  it("renders upstream's prompt, ids that commit to the tests, and wraps indices", () => {
    const p = env.getProblem(0);
    expect(p.prompt).toBe('Return the sum of two integers a and b.\n\nWrite your solution as a Python function named `add_two` that takes 2 arguments and returns the result; do not read from stdin or print.');
    expect(codePrompt('T', 'f', 1)).toMatch(/takes 1 argument and returns/);
    expect(p.id).toMatch(/^[0-9a-f]{16}$/);
    expect(p.groundTruth).toMatch(/^[0-9a-f]{16}$/);
    expect(env.getProblem(env.size)).toEqual(p);
    expect(env.getProblem(-1)).toEqual(env.getProblem(env.size - 1));
    const other = envCode({ rows: [{ ...env.row(0), tests: [...env.row(0).tests, 'assert add_two(2, 2) == 4'] }] });
    expect(other.getProblem(0).id).toBe(p.id);
    expect(other.getProblem(0).groundTruth).not.toBe(p.groundTruth);
    expect(env.rewardCases(p)).toEqual(env.row(0).tests);
    expect(V4.environments[env.name]?.rewardKind).toBe('fraction');
    expect(env.spec).toMatchObject({ rewardKind: 'fraction', answerFormat: null, maxNewTokens: V4.environments[env.name]?.maxNewTokens });
  });

  it('refuses malformed rows with a message that says what is wrong', () => {
    expect(() => parseCodeRow({ task: 'x', entry: 'not an id', arity: 1, tests: ['assert 1'] })).toThrow(/identifier/);
    expect(() => parseCodeRow({ task: 'x', entry: 'f', arity: 1, tests: [] })).toThrow(/tests/);
    expect(() => envCode({ source: bytesReader(new TextEncoder().encode('{"task":"x"}\n')) }).getProblem(0)).toThrow(/entry/);
    expect(() => envCode({})).toThrow(/no dataset/);
  });
});

describe('the graded program (§2)', () => {
  const prog = 'def add(a, b):\n    return a + b';
  it('is the last fenced block (```python or bare) that defines the entry point', () => {
    expect(extractProgram(`${F}python\n${prog}\n${F}`, 'add')).toBe(prog);
    expect(extractProgram(`${F}\n${prog}\n${F}`, 'add')).toBe(prog);
    expect(extractProgram(`${F}python\ndef add(a, b):\n    return 0\n${F}\nthen\n${F}python\n${prog}\n${F}\n${F}\nprint(add(1, 2))\n${F}`, 'add')).toBe(prog);
    expect(extractProgram(prog, 'add')).toBeNull();
    expect(extractProgram(`${F}python\ndef add_one(a):\n    return a\n${F}`, 'add')).toBeNull();
    expect(extractProgram(`${F}python\n${prog}`, 'add')).toBeNull(); // never closed
  });

  it('none → reward 0 without any runner; a program not graded yet is an outage, never a silent 0', async () => {
    const p = env.getProblem(0);
    expect(env.computeReward(p, 'the answer is 3')).toBe(0);
    expect(await env.computeRewardAsync(p, 'no code here')).toBe(0);
    const text = `${F}python\ndef add_two(a, b):\n    return a + b\n${F}`;
    expect(() => env.computeReward(p, text)).toThrow(GraderOutage);
    expect(safeReward(env, p, text)).toBe(0);
    await expect(env.computeRewardAsync(p, text)).rejects.toThrow(GraderOutage);
  });
});

describe("upstream's Parquet layout (hyparquet)", () => {
  const cases = (name: string, rows: [unknown[], unknown][]) =>
    JSON.stringify(rows.map(([args, expected]) => ({ entry: { kind: 'function', name }, args, kwargs: {}, expected, compare: 'exact' })));
  it('reads input + structured_cases into rows, tests rendered as Python literals, unusable rows kept in place', async () => {
    const buf = parquetWriteBuffer({
      columnData: [
        { name: 'input', data: ['Add two numbers.', 'Broken row.', 'Say hi to a name.'], type: 'STRING' },
        {
          name: 'structured_cases',
          data: [cases('add', [[[1, 2], 3], [[-1, 1], 0], [[0.5, 0.25], 0.75]]), '[]', cases('greet', [[['Ann'], 'hi "Ann"\n'], [[null], null], [[true], false]])],
          type: 'STRING',
        },
      ],
    });
    const { rows, unusable } = await readCodeParquet([buf]);
    expect(rows).toHaveLength(3);
    expect(unusable).toEqual([{ index: 1, reason: expect.stringMatching(/non-empty JSON list/) }]);
    expect(rows[0]).toEqual({ task: 'Add two numbers.', entry: 'add', arity: 2, tests: ['assert add(1, 2) == 3', 'assert add(-1, 1) == 0', 'assert add(0.5, 0.25) == 0.75'] });
    expect(rows[2]!.tests).toEqual(['assert greet("Ann") == "hi \\"Ann\\"\\n"', 'assert greet(None) == None', 'assert greet(True) == False']);
    const penv = envCode({ rows });
    expect(penv.size).toBe(3);
    expect(penv.getProblem(0).prompt).toMatch(/^Add two numbers\.\n\nWrite your solution as a Python function named `add` that takes 2 arguments/);
    expect(() => codeRowFromUpstream('x', JSON.stringify([{ entry: { kind: 'stdin' } }]))).toThrow(/function/);
    expect([pyLiteral(1.0), pyLiteral(2.5), pyLiteral(1e300), pyLiteral({ a: [1, null] }), pyLiteral(-0)]).toEqual(['1', '2.5', '1e300', '{"a": [1, None]}', '-0.0']);
  });
});

describe('the plugin', () => {
  it('registers as an environment with documented defaults', () => {
    const app = createRegistry().use(envCodePlugin, { source: fileReader(sampleCodeDatasetPath()) }).assemble(['environment'] as const);
    const envs = app.environment as unknown as { name: string; size: number }[];
    expect(envs.map((e) => [e.name, e.size])).toEqual([['opencodeinstruct', 61]]);
    expect(readFileSync(sampleCodeDatasetPath(), 'utf8').trim().split('\n')).toHaveLength(61);
  });
});
