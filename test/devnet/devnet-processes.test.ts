/**
 * `reliquary devnet` as processes (issue 12, item 4): the CLI bundle's devnet starts one `reliquary validator`
 * child and two `reliquary miner` children on loopback and prints the devnet report built from their JSON reports —
 * the same report object the in-process devnet gives (devnet.test.ts), with `--store` passed through to the
 * validator. And a child that fails is one line naming it, with a non-zero exit and no child left running.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevnetReport } from '../../hosts/node/devnet/report.ts';
import { buildCliBundle, exits, killAll, run } from '../nodes/cli-bundle.ts';

let BUNDLE = '';
let removeBundle = async (): Promise<void> => {};
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reliquary-devnet-proc-'));
  ({ path: BUNDLE, remove: removeBundle } = await buildCliBundle('devnet-test'));
}, 120_000);

afterAll(async () => {
  killAll();
  await removeBundle();
  await rm(dir, { recursive: true, force: true });
});

describe('reliquary devnet (separate processes)', () => {
  it('2 windows, 2 miner processes: the devnet report with both miners, held-out pass@1 and the chain weights', async () => {
    const data = join(dir, 'data');
    const store = join(dir, 'store');
    const p = run(process.execPath, [BUNDLE, 'devnet', '--windows', '2', '--miners', '2', '--data', data, '--fresh', '--json', '--store', `fs:${store}`]);
    const [code] = await exits({ devnet: p }, 200);
    expect(code, p.stderr()).toBe(0);
    const r = JSON.parse(p.stdout()) as DevnetReport;
    expect(r.windows).toHaveLength(2);
    expect(r.totals.sealed).toBeGreaterThanOrEqual(1);
    expect(r.miners.map((m) => [m.name, m.selector])).toEqual([['miner-1', 'frontier'], ['miner-2', 'uniform']]);
    expect(r.miners.reduce((a, m) => a + m.submitted, 0), p.stderr()).toBeGreaterThan(0);
    for (const m of r.miners) expect(m.windowsMined).toBeGreaterThan(0);
    for (const w of r.windows) {
      const paid = Object.values(w.payouts).reduce((a, b) => a + b, 0);
      expect(paid + w.burned).toBeCloseTo(1, 9);
    }
    expect(r.heldOut.before.trainStep).toBe(0);
    expect(r.heldOut.delta).toBeCloseTo(r.heldOut.after.passAt1 - r.heldOut.before.passAt1, 3);
    expect(r.chainWeights?.submissionsThisRun).toBe(r.totals.sealed);
    // live progress came from the children: the validator's window lines name the miners as they registered
    expect(p.stderr()).toMatch(/validator: window 0 OPEN/);
    expect(p.stderr()).toMatch(/miner-1: window \d+ beacon verified/);
    // each miner kept its keys under <data>/miners/<name>
    expect((await readdir(join(data, 'miners'))).sort()).toEqual(['miner-1', 'miner-2']);
    // --store reached the validator: its signed archives are there, not under <data>/store
    expect((await readdir(join(store, 'reliquary', r.validator, 'dataset'))).sort()).toEqual(['window-0.json', 'window-1.json']);
    expect(existsSync(join(data, 'store'))).toBe(false);
  }, 220_000);

  it('a child that fails: one line naming it, exit code 1', async () => {
    const model = join(dir, 'broken-model');
    await mkdir(model, { recursive: true });
    await writeFile(join(model, 'config.json'), '{}');
    const p = run(process.execPath, [BUNDLE, 'devnet', '--windows', '1', '--miners', '1', '--data', join(dir, 'data-bad'), '--fresh', '--quiet', '--model', model]);
    const [code] = await exits({ devnet: p }, 120);
    expect(code).toBe(1);
    const lines = p.stderr().trim().split('\n');
    expect(lines, p.stderr()).toHaveLength(1);
    expect(lines[0]).toMatch(/^reliquary devnet: validator exited with code 1: reliquary validator: /);
    expect(p.stdout()).toBe('');
  }, 150_000);
});
