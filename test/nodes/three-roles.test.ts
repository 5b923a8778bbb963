/**
 * Issue 12, the three-role run: a validator (`reliquary validator`) and two miners — one on Node (`reliquary miner`),
 * one on Deno (hosts/deno/miner.ts) — as separate processes on loopback, for 2 short windows. All three are
 * assembled from one JSON config naming env-arith and an environment module from outside the source tree (the
 * `env-digits` fixture, copied to a temp directory). The miners create their keys, read `/node`, register over HTTP
 * and mine; the validator's report must show groups of both miners accepted, and the external environment must have
 * been offered and graded in the market.
 *
 * The Node processes run a bundle of the CLI (esbuild, as `npm run build` makes it, written beside dist/); the Deno
 * miner runs the TypeScript sources (`npx deno`, the binary from npm). Short windows: 8 s collection. Each miner
 * checks every window's beacon round (BLS) before mining it: the logs must say so.
 */
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCliBundle, exits, killAll, logsOf, run } from './cli-bundle.ts';

let BUNDLE = '';
let removeBundle = async (): Promise<void> => {};
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reliquary-3roles-'));
  await copyFile(resolve('test/nodes/fixtures/env-digits.mjs'), join(dir, 'env-digits.mjs'));
  await writeFile(join(dir, 'node.json'), JSON.stringify({ plugins: ['env-arith', { use: './env-digits.mjs' }] }));
  ({ path: BUNDLE, remove: removeBundle } = await buildCliBundle('nodes-test'));
}, 120_000);

afterAll(async () => {
  killAll();
  await removeBundle();
  await rm(dir, { recursive: true, force: true });
});

async function urlOf(p: { stderr: () => string; exit: Promise<number> }): Promise<string> {
  for (let i = 0; i < 600; i++) {
    const m = /serving (http:\/\/127\.0\.0\.1:\d+)/.exec(p.stderr());
    if (m) return m[1]!;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the validator did not start:\n${p.stderr()}`);
}

describe('validator + Node miner + Deno miner as separate processes', () => {
  it('2 windows over loopback: both miners registered themselves and had groups accepted; the external environment ran', async () => {
    const cfg = join(dir, 'node.json');
    const v = run(process.execPath, [BUNDLE, 'validator', '--config', cfg, '--data', join(dir, 'v'), '--port', '0', '--windows', '2', '--miners', '2',
      '--collection-seconds', '8', '--report', join(dir, 'v.json')]);
    const url = await urlOf(v);
    const node = run(process.execPath, [BUNDLE, 'miner', '--validator', url, '--config', cfg, '--data', join(dir, 'm-node'), '--windows', '2', '--name', 'node-miner', '--report', join(dir, 'm-node.json')]);
    const deno = run('npx', ['deno', 'run', '-A', 'hosts/deno/miner.ts', '--validator', url, '--config', cfg, '--data', join(dir, 'm-deno'), '--windows', '2', '--name', 'deno-miner', '--report', join(dir, 'm-deno.json')]);
    const [vc, nc, dc] = await exits({ validator: v, node, deno }, 220);
    const logs = logsOf({ validator: v, node, deno });
    expect(vc, logs).toBe(0);
    expect(nc, logs).toBe(0);
    expect(dc, logs).toBe(0);

    const report = JSON.parse(await readFile(join(dir, 'v.json'), 'utf8')) as {
      windows: { status: string }[]; environments: { name: string }[]; miners: { hotkey: string; submitted: number; accepted: number; paid: number }[];
    };
    const nodeHotkey = (JSON.parse(await readFile(join(dir, 'm-node.json'), 'utf8')) as { hotkey: string }).hotkey;
    const denoHotkey = (JSON.parse(await readFile(join(dir, 'm-deno.json'), 'utf8')) as { hotkey: string }).hotkey;
    expect(report.windows).toHaveLength(2);
    expect(report.environments.map((e) => e.name)).toEqual(['arith', 'digits']);
    for (const hk of [nodeHotkey, denoHotkey]) {
      const row = report.miners.find((m) => m.hotkey === hk);
      expect(row, `${hk} in ${JSON.stringify(report.miners)}\n${logs}`).toBeDefined();
      expect(row!.submitted).toBeGreaterThan(0);
      expect(row!.accepted, logs).toBeGreaterThan(0);
    }
    // The external environment was offered and graded: its auction appears in a signed window archive.
    const archives: string[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(join(d, e.name));
        else if (/^window-\d+\.json$/.test(e.name)) archives.push(await readFile(join(d, e.name), 'utf8'));
      }
    };
    await walk(join(dir, 'v', 'store'));
    expect(archives.length).toBeGreaterThanOrEqual(2);
    expect(archives.some((a) => a.includes('"digits"')), logs).toBe(true);
    // Both miners verified the beacon round of the windows they mined (the validator's local beacon: BLS under its key).
    expect(node.stderr()).toMatch(/node-miner: window \d+ beacon verified \(beacon-local round \d+, BLS\)/);
    expect(deno.stderr()).toMatch(/deno-miner: window \d+ beacon verified \(beacon-local round \d+, BLS\)/);
  }, 240_000);

  it('a miner whose environment set differs stops at start with one line naming the difference (exit 2)', async () => {
    const v = run(process.execPath, [BUNDLE, 'validator', '--data', join(dir, 'v2'), '--port', '0', '--windows', '1', '--quiet']);
    const url = await urlOf(v);
    const m = run(process.execPath, [BUNDLE, 'miner', '--validator', url, '--config', join(dir, 'node.json'), '--data', join(dir, 'm2')]);
    const [code] = await exits({ miner: m }, 60);
    v.child.kill('SIGKILL');
    expect(code, m.stderr()).toBe(2);
    expect(m.stderr().trim().split('\n')).toEqual([expect.stringMatching(/^reliquary miner: environment sets differ: .*digits/)]);
  }, 90_000);
});
