/**
 * A validator configured with the beacon-drand plugin (a node config naming it, relays = a loopback relay replaying
 * recorded quicknet responses) and a Node miner, as separate processes: the window opens on the relay's latest
 * recorded round, the miner verifies that round's BLS signature under its own quicknet key before mining, and its
 * groups are accepted. (The post-deadline seal round is not among the recordings: the window seals without it.)
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCliBundle, exits, killAll, logsOf, run } from './cli-bundle.ts';
import { QUICKNET_VECTORS, quicknetRelay } from './quicknet-relay.ts';

let BUNDLE = '';
let removeBundle = async (): Promise<void> => {};
let dir = '';
let relay: { url: string; close: () => Promise<void> };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reliquary-drand-validator-'));
  relay = await quicknetRelay();
  ({ path: BUNDLE, remove: removeBundle } = await buildCliBundle('drand-test'));
}, 120_000);

afterAll(async () => {
  killAll();
  await removeBundle();
  await relay?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a validator on beacon-drand (config), a miner process verifying its beacon', () => {
  it('one window: the miner verifies the drand round (BLS) and has groups accepted', async () => {
    const cfg = join(dir, 'validator.json');
    await writeFile(cfg, JSON.stringify({ plugins: [{ use: 'beacon-drand', options: { relays: [relay.url], timeoutMs: 2000, attempts: 1 } }] }));
    const v = run(process.execPath, [BUNDLE, 'validator', '--config', cfg, '--data', join(dir, 'v'), '--port', '0', '--windows', '1',
      '--collection-seconds', '6', '--report', join(dir, 'v.json')]);
    let url = '';
    for (let i = 0; i < 1200 && !url; i++) {
      url = /serving (http:\/\/127\.0\.0\.1:\d+)/.exec(v.stderr())?.[1] ?? '';
      if (!url) await new Promise((r) => setTimeout(r, 100));
    }
    expect(url, v.stderr()).not.toBe('');
    // the relay replays recorded (old) rounds: the freshness bound would refuse them, so it is off here
    const m = run(process.execPath, [BUNDLE, 'miner', '--validator', url, '--data', join(dir, 'm'), '--windows', '1', '--name', 'm1', '--beacon-max-age', 'off']);
    const [vc, mc] = await exits({ validator: v, miner: m }, 150);
    const logs = logsOf({ validator: v, miner: m });
    expect(vc, logs).toBe(0);
    expect(mc, logs).toBe(0);
    const last = QUICKNET_VECTORS.beacons[QUICKNET_VECTORS.beacons.length - 1]!;
    expect(v.stderr()).toContain(`window 0 OPEN (round ${last.round},`);
    expect(m.stderr()).toContain(`m1: window 0 beacon verified (drand-quicknet round ${last.round}, BLS)`);
    const report = JSON.parse(await readFile(join(dir, 'v.json'), 'utf8')) as { miners: { name?: string; accepted: number }[] };
    expect(report.miners.find((x) => x.name === 'm1')?.accepted, logs).toBeGreaterThan(0);
  }, 200_000);
});
