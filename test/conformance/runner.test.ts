import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runConformance } from '../../hosts/node/conformance/runner.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const VECTORS = join(ROOT, 'test/vectors/protocol.json');
const file = (cases: unknown[]) => JSON.stringify({ version: 1, cases });

describe('the shipped vectors', () => {
  it('pass with 0 failed and exit 0', () => {
    const r = runConformance(readFileSync(VECTORS, 'utf8'));
    expect(r.malformed).toEqual([]);
    expect(r.failed).toBe(0);
    expect(r.passed).toBeGreaterThanOrEqual(70);
    expect(r.exitCode).toBe(0);
    expect(r.lines.at(-1)).toBe(`${r.passed} passed, 0 failed`);
  });

  it('cover every §11 function and the GRPO vectors', () => {
    const fns = new Set(runConformance(readFileSync(VECTORS, 'utf8')).tallies.map((t) => t.fn));
    for (const fn of ['math_reward', 'extract_boxed', 'code_extract', 'prf', 'indices_from_root', 'indices_from_root_in_range', 'r_vec', 'bucket', 'sketch', 'u_at', 'pick', 'commitments_hash', 'commit_binding', 'envelope_digest', 'precommit_digest', 'window_randomness', 'drand_round', 'prompt_range', 'dedup_hash', 'merkle_root', 'grpo_advantages', 'surrogate', 'overlong_penalty', 'zone_value']) {
      expect(fns, fn).toContain(fn);
    }
  });
});

describe('reporting', () => {
  it('prints one line per function with expected vs got, and exits 1 on a mismatch', () => {
    const r = runConformance(file([
      { fn: 'dedup_hash', args: { tokens: [1, 2, 3] }, expect: '7b0b5ea3ff36958c8e32ccf24b71da9ac68e51d0881bf75e62b837ec9ea6f3a5' },
      { fn: 'dedup_hash', args: { tokens: [1, 2, 4] }, expect: '7b0b5ea3ff36958c8e32ccf24b71da9ac68e51d0881bf75e62b837ec9ea6f3a5' },
      { fn: 'bucket', args: { x: 'nan' }, expect: 0 },
    ]));
    expect(r.exitCode).toBe(1);
    expect(r.lines[0]).toBe('dedup_hash: 1 passed, 1 failed');
    expect(r.lines[1]).toMatch(/^ {2}case 1: expected "7b0b5e.*" got "[0-9a-f]{64}"$/);
    expect(r.lines[2]).toBe('bucket: 1 passed, 0 failed');
    expect(r.lines.at(-1)).toBe('2 passed, 1 failed');
  });

  it('counts an unknown function as a failure naming the known ones', () => {
    const r = runConformance(file([{ fn: 'nope', args: {}, expect: 0 }]));
    expect(r.exitCode).toBe(1);
    expect(r.lines.join('\n')).toMatch(/unknown function "nope" \(known: prf,/);
  });

  it('compares special floats and GRPO floats within float32 tolerance', () => {
    const r = runConformance(file([
      { fn: 'surrogate', args: { ratio: 1.5, advantage: 1.0 }, expect: 1.2799999713897705 },
      { fn: 'bucket', args: { x: '-inf' }, expect: -7 },
      { fn: 'u_at', args: { randomness: '5f'.repeat(32), prompt_idx: 12345, checkpoint_hash: '906bfd4b4dc7f14ee4320094d8b41684abff8539', rollout_index: 0, t: 0 }, expect: 0.1718259622943352 },
    ]));
    expect(r.failed).toBe(0);
  });

  it('keeps 1 and 1.0 apart for the Merkle root', () => {
    const leaves = (reward: string) => `{"version":1,"cases":[{"fn":"merkle_root","args":{"leaves":[{"tokens":[1,2,3],"reward":${reward},"commit":{"b":[1],"a":0.5}},{"tokens":[4],"reward":0.0,"commit":{"x":"\\u00e9"}},{"tokens":[5],"reward":1e-05,"commit":{}}]},"expect":"9638e90c7c85b32c19d78c8e1c0dcc0ef8486158da80143355e2e7687f55db60"}]}`;
    expect(runConformance(leaves('1.0')).failed).toBe(0);
    expect(runConformance(leaves('1')).failed).toBe(1);
  });
});

describe('malformed files exit 2 and say what and where', () => {
  it.each([
    ['not JSON', '{"version":1,', /not valid JSON/],
    ['top level is a list', '[]', /top level must be an object/],
    ['wrong version', '{"version":2,"cases":[]}', /version.*unsupported version 2/],
    ['cases missing', '{"version":1}', /cases: must be a list/],
    ['case not an object', file([3]), /cases\[0\]: a case must be an object/],
    ['fn missing', file([{ args: {}, expect: 1 }]), /cases\[0\]\.fn/],
    ['expect missing', file([{ fn: 'bucket', args: { x: 1 } }]), /cases\[0\]\.expect: missing/],
    ['argument missing', file([{ fn: 'bucket', args: {}, expect: 0 }]), /cases\[0\]\.args\.x: missing argument/],
    ['argument of the wrong type', file([{ fn: 'dedup_hash', args: { tokens: 'abc' }, expect: '' }]), /cases\[0\]\.args\.tokens: expected a list, got string/],
  ])('%s', (_name, text, message) => {
    const r = runConformance(text);
    expect(r.exitCode).toBe(2);
    expect(r.lines.join('\n')).toMatch(message);
  });
});

describe('zone_value is the gated utility (market §4)', () => {
  const zone = (rewards: number[], expected: number, bootstrap?: boolean) =>
    runConformance(file([{ fn: 'zone_value', args: bootstrap === undefined ? { rewards } : { rewards, bootstrap }, expect: expected }]));
  // [0, x] has μ = σ = x/2 exactly, so these sit 1 ulp under, at and 1 ulp over the steady floor 0.24.
  const under = 0.47999999999999993; // nextafter(0.48, 0): σ = 0.23999999999999996
  const over = 0.48000000000000004; // nextafter(0.48, 1): σ = 0.24000000000000002

  it('is 0 one ulp under σ_min = 0.24 (the ungated value no longer passes)', () => {
    expect(zone([0, under], 0).failed).toBe(0);
    const r = zone([0, under], 0.1824);
    expect(r.failed).toBe(1);
    expect(r.lines[1]).toMatch(/case 0: expected 0\.1824 got 0$/);
  });

  it('values σ exactly at the floor and just over it', () => {
    expect(zone([0, 0.48], 0.1824).failed).toBe(0);
    expect(zone([0, 0, 0.48, 0.48], 0.1824).failed).toBe(0);
    expect(zone([0, over], 0.1824).failed).toBe(0);
    expect(zone([1, ...Array<number>(15).fill(0)], 0.22693261794184083).failed).toBe(0);
  });

  it('uses the bootstrap floor 0.22 only when the args say "bootstrap": true', () => {
    expect(zone([0, 0.46], 0).failed).toBe(0);
    expect(zone([0, 0.46], 0, false).failed).toBe(0);
    expect(zone([0, 0.46], 0.1771, true).failed).toBe(0);
    expect(zone([0, 0.42], 0, true).failed).toBe(0);
  });

  it('fails σ under ε even in bootstrap', () => {
    expect(zone(Array<number>(16).fill(0), 0).failed).toBe(0);
    expect(zone(Array<number>(16).fill(1), 0, true).failed).toBe(0);
  });

  it('calls a non-boolean "bootstrap" malformed', () => {
    const r = runConformance(file([{ fn: 'zone_value', args: { rewards: [0, 0.48], bootstrap: 1 }, expect: 0.1824 }]));
    expect(r.exitCode).toBe(2);
    expect(r.lines.join('\n')).toMatch(/cases\[0\]\.args\.bootstrap: expected a boolean, got number/);
  });
});

describe('prompt_range takes n beyond 2^53 (Python ints are unbounded)', () => {
  const R = '5f'.repeat(32);
  const pr = (env: string, n: string, expected: string) =>
    runConformance(`{"version":1,"cases":[{"fn":"prompt_range","args":{"randomness":"${R}","env":"${env}","n":${n}},"expect":${expected}}]}`);

  it('computes the range exactly for n = 2^60+7, 2^64+3 and 2^53+1', () => {
    for (const [env, n, want] of [
      ['openmathinstruct', '1152921504606846983', '[192381080186277531,192381080186282531]'],
      ['openmathinstruct', '18446744073709551619', '[11721596126254697361,11721596126254702361]'],
      ['code_contests', '18446744073709551619', '[17399066378314124440,17399066378314129440]'],
      ['openmathinstruct', '9007199254740993', '[3229895843170468,3229895843175468]'],
    ] as const) {
      const r = pr(env, n, want);
      expect(r.malformed, n).toEqual([]);
      expect(r.failed, n).toBe(0);
      expect(r.exitCode, n).toBe(0);
    }
  });

  it('prints big values exactly, as Python would, on a mismatch', () => {
    const r = pr('openmathinstruct', '18446744073709551619', '[11721596126254697362,11721596126254702362]');
    expect(r.exitCode).toBe(1);
    expect(r.lines[1]).toBe(
      '  case 0: expected [11721596126254697362,11721596126254702362] got [11721596126254697361,11721596126254702361]',
    );
  });

  it('compares big ints exactly, never through a rounded float', () => {
    // 192381080186277531 rounds to the float 192381080186277536 (printed 1.9238108018627754e17): not equal.
    expect(pr('openmathinstruct', '1152921504606846983', '[1.9238108018627754e17,192381080186282531]').failed).toBe(1);
    expect(pr('openmathinstruct', '1152921504606846983', '[192381080186277536,192381080186282531]').failed).toBe(1);
  });

  it('still keeps small n on the plain path and calls a non-integer n malformed', () => {
    expect(pr('openmathinstruct', '100000', '[37361,42361]').failed).toBe(0);
    const r = pr('openmathinstruct', '"big"', '[0,0]');
    expect(r.exitCode).toBe(2);
    expect(r.lines.join('\n')).toMatch(/cases\[0\]\.args\.n: expected an integer, got string/);
  });
});

describe('the bundled CLI', () => {
  let dir = '';
  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, 'hosts/node/build.mjs')]);
    dir = mkdtempSync(join(tmpdir(), 'conformance-'));
  });
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'dist/reliquary.mjs'), ...args], { encoding: 'utf8' });

  it('reliquary conformance test/vectors/protocol.json reports 0 failed and exits 0', () => {
    const r = cli('conformance', VECTORS);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^\d+ passed, 0 failed$/);
  });

  it('exits 1 on a failure and 2 on a malformed or missing file', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, file([{ fn: 'bucket', args: { x: 1000 }, expect: 6 }]));
    expect(cli('conformance', bad).status).toBe(1);
    writeFileSync(bad, '{"version":1,"cases":{}}');
    expect(cli('conformance', bad).status).toBe(2);
    const missing = cli('conformance', join(dir, 'missing.json'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read/);
  });

  it('prints a big prompt_range result with its exact digits', () => {
    const big = join(dir, 'big.json');
    writeFileSync(big, `{"version":1,"cases":[{"fn":"prompt_range","args":{"randomness":"${'5f'.repeat(32)}","env":"openmathinstruct","n":18446744073709551619},"expect":[0,5000]}]}`);
    const r = cli('conformance', big);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('expected [0,5000] got [11721596126254697361,11721596126254702361]');
  });
});
