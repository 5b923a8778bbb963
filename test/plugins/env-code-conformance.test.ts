/**
 * The `code_reward` vectors (test/vectors/code.json: every rule of issue 15 §2 and a few hostile programs) run
 * by the conformance runner in-process, through the synchronous sandbox — so `npm test` checks them; the CLI
 * (`reliquary conformance test/vectors/code.json`) runs the same table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runConformance } from '../../hosts/node/conformance/runner.ts';

const VECTORS = join(import.meta.dirname, '../vectors/code.json');

describe('code_reward vectors', () => {
  it('all pass', () => {
    const report = runConformance(readFileSync(VECTORS, 'utf8'), VECTORS);
    expect(report.malformed).toEqual([]);
    expect(report.tallies.map((t) => t.fn)).toEqual(['code_reward']);
    expect(report.lines.at(-1)).toBe(`${report.passed} passed, 0 failed`);
    expect(report.passed).toBeGreaterThanOrEqual(17);
  }, 180_000);
});
