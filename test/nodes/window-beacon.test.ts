/**
 * Miners verify the beacon round a window's randomness came from (issue 12, item 6): `verifyWindowBeacon` on
 * recorded quicknet beacons (test/vectors/drand-quicknet.json: real rounds), each failure with its own reason; and
 * end to end, a validator configured with the drand client against a loopback relay replaying those recorded
 * responses serves `/node/beacon`, a miner's check accepts it (and refuses it as `stale` by today's clock: a
 * validator may not open a window on a past round), and a validator that lies about the beacon (one flipped signature
 * bit on `/node/beacon`) has its window skipped by the miner with `bad_signature`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVNET, V4 } from '../../core/profile/index.ts';
import { drandRoundTime, windowRandomness } from '../../core/protocol/randomness.ts';
import { signerFromSeed } from '../../core/protocol/sr25519.ts';
import { fastDevnetProfile } from '../../hosts/node/devnet/devnet.ts';
import { startMiner } from '../../hosts/node/devnet/miner-host.ts';
import { startValidator, type ValidatorHost } from '../../hosts/node/devnet/validator-host.ts';
import { beaconWindowCheck } from '../../hosts/node/nodes/miner-command.ts';
import { nodeRoutes } from '../../hosts/node/nodes/node-routes.ts';
import { beaconMaxAgeSeconds, drandQuicknet, QUICKNET_SCHEME, verifyWindowBeacon } from '../../plugins/beacon-drand/index.ts';
import { beaconLocal } from '../../plugins/beacon-local/index.ts';
import { envArith } from '../../plugins/env-arith/index.ts';
import { httpClient } from '../../plugins/transport-http/index.ts';
import { flipLastBit, QUICKNET_VECTORS, quicknetRelay } from './quicknet-relay.ts';

const V = QUICKNET_VECTORS;
const flip = flipLastBit;
const CHAIN = { hash: V4.drand.chainHash, public_key: V4.drand.publicKey, period: V.period, genesis_time: V.genesis_time, scheme: QUICKNET_SCHEME };

describe('verifyWindowBeacon (recorded quicknet rounds)', () => {
  const b = V.beacons[1]!;
  const proof = { beacon: 'drand-quicknet', round: b.round, signature: b.signature, chain: CHAIN };
  const expected = { window: 7, randomness: windowRandomness(b.randomness, b.round) };
  const reason = (p: unknown, e = expected): string => {
    const c = verifyWindowBeacon(p, e, DEVNET.drand);
    return c.ok ? 'ok' : c.reason;
  };

  it('accepts the recorded round whose randomness the window carries', () => {
    expect(DEVNET.drand).toEqual(V4.drand); // the devnet profile trusts the real quicknet key
    expect(verifyWindowBeacon(proof, expected, DEVNET.drand)).toEqual({ ok: true, round: b.round, beacon: 'drand-quicknet' });
  });

  it('gives each failure its reason', () => {
    expect(reason({ ...proof, signature: flip(b.signature) })).toBe('bad_signature');
    expect(reason({ ...proof, signature: V.beacons[2]!.signature })).toBe('bad_signature'); // another round's signature
    expect(reason(proof, { window: 7, randomness: windowRandomness(V.beacons[2]!.randomness, V.beacons[2]!.round) })).toBe('randomness_mismatch');
    expect(reason({ ...proof, signature: 'zz' })).toBe('malformed');
    expect(reason({ round: b.round })).toBe('malformed');
    expect(reason({ ...proof, chain: { ...CHAIN, scheme: 'pedersen-bls-chained' } })).toBe('wrong_chain');
    const c = verifyWindowBeacon({ ...proof, signature: flip(b.signature) }, expected, DEVNET.drand);
    expect(c.ok ? '' : c.message).toMatch(/^window 7: drand-quicknet round \d+: (BLS signature does not verify|signature is not a valid G1 point)/);
  });

  it('freshness (drand-quicknet): a round older than the bound is stale, a round ahead of the clock too, a local beacon is not timed', () => {
    const published = drandRoundTime(b.round, DEVNET.drand);
    const maxAge = beaconMaxAgeSeconds(V4);
    expect(maxAge).toBe(100 + 33 + 2 * 3 + 30);
    const at = (nowSeconds: number) => verifyWindowBeacon(proof, expected, DEVNET.drand, { nowSeconds, maxAgeSeconds: maxAge });
    expect(at(published + 2)).toEqual({ ok: true, round: b.round, beacon: 'drand-quicknet' });
    expect(at(published + maxAge)).toMatchObject({ ok: true });
    const old = at(published + maxAge + 1);
    expect(old).toMatchObject({ ok: false, reason: 'stale' });
    expect(old.ok ? '' : old.message).toMatch(new RegExp(`^window 7: drand round ${b.round} was published at .*Z, ${maxAge + 1} s ago; .* picked a past round`));
    const ahead = at(published - 10);
    expect(ahead).toMatchObject({ ok: false, reason: 'stale' });
    expect(ahead.ok ? '' : ahead.message).toMatch(/10 s from now by this machine's clock; check the clock/);
    // a forged signature is bad_signature, whatever its age
    expect(verifyWindowBeacon({ ...proof, signature: flip(b.signature) }, expected, DEVNET.drand, { nowSeconds: published + 1e6, maxAgeSeconds: maxAge })).toMatchObject({ reason: 'bad_signature' });
  });

  it('a "drand" beacon on another key is wrong_chain even when it signs correctly; a local beacon is checked under its own key', () => {
    const local = beaconLocal({ secretSeed: new Uint8Array(48).fill(7) });
    const r = local.sign(b.round);
    const localChain = { hash: local.chain.chainHash, public_key: local.chain.publicKey, period: local.chain.periodSeconds, genesis_time: local.chain.genesisTime, scheme: QUICKNET_SCHEME };
    const e = { window: 1, randomness: windowRandomness(r.randomness, r.round) };
    expect(reason({ beacon: 'drand-quicknet', round: r.round, signature: r.signature, chain: localChain }, e)).toBe('wrong_chain');
    expect(reason({ beacon: 'beacon-local', round: r.round, signature: r.signature, chain: localChain }, e)).toBe('ok');
    expect(reason({ beacon: 'beacon-local', round: r.round, signature: flip(r.signature), chain: localChain }, e)).toBe('bad_signature');
  });
});

describe('a validator on beacon-drand, a miner checking its windows', () => {
  let r: { url: string; close: () => Promise<void> };
  let dir = '';
  let host: ValidatorHost;
  let tamper = false;
  let window: Promise<unknown>;

  beforeAll(async () => {
    r = await quicknetRelay();
    dir = await mkdtemp(join(tmpdir(), 'reliquary-window-beacon-'));
    host = await startValidator({
      profile: fastDevnetProfile(20, 2), env: envArith(), dataDir: dir, modelDir: resolve('models/tiny-arith'),
      beacon: drandQuicknet({ relays: [r.url], timeoutMs: 2000, attempts: 1 }),
      routes: (app, h) => {
        // A lying validator: the same route with one signature bit flipped.
        app.use('/node/beacon', async (c, next) => {
          await next();
          if (!tamper || c.res.status !== 200) return;
          const body = (await c.res.json()) as { signature: string };
          c.res = new Response(JSON.stringify({ ...body, signature: flip(body.signature) }), { headers: { 'content-type': 'application/json' } });
        });
        nodeRoutes(app, h);
      },
    });
    window = host.runWindow().catch((e: unknown) => e); // opens on the relay's latest recorded round
    while (host.validator.window.phase !== 'open') await new Promise((res) => setTimeout(res, 50));
  }, 60_000);

  afterAll(async () => {
    await host?.close();
    await window;
    await r.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the recorded round it opened on, and the miner\'s check verifies it (BLS, quicknet key)', async () => {
    const last = V.beacons[V.beacons.length - 1]!;
    expect(host.validator.window.openRound).toBe(last.round);
    const state = (await httpClient({ baseUrl: host.url, profile: host.profile }).state())!;
    expect(state.randomness).toBe(windowRandomness(last.randomness, last.round));
    const lines: string[] = [];
    // the recorded round is old: the miner's clock is set to just after it was published
    const published = drandRoundTime(last.round, host.profile.drand);
    const check = beaconWindowCheck(host.url, host.profile, (l) => lines.push(l), 'm', 0, beaconMaxAgeSeconds(host.profile), () => published + 4);
    expect(await check(state)).toEqual({ ok: true, round: last.round, beacon: 'drand-quicknet' });
    expect(lines).toEqual([`m: window ${state.window_n} beacon verified (drand-quicknet round ${last.round}, BLS)`]);
    // by today's clock the same round is stale: the miner refuses the window (a validator replaying a past round)
    const stale = await beaconWindowCheck(host.url, host.profile, () => {}, 'm')(state);
    expect(stale).toMatchObject({ ok: false, reason: 'stale' });
  });

  it('a tampered beacon: the miner skips the window with bad_signature and mines nothing in it', async () => {
    tamper = true;
    const lines: string[] = [];
    const miner = await startMiner({
      name: 'm', profile: host.profile, env: envArith(), baseUrl: host.url, validatorHotkey: host.hotkey, signer: signerFromSeed(new Uint8Array(32).fill(3)),
      selector: 'uniform', modelDir: resolve('models/tiny-arith'), checkpointN: 0, log: (l) => lines.push(l),
      checkWindow: beaconWindowCheck(host.url, host.profile, (l) => lines.push(l), 'm'),
    });
    try {
      miner.start();
      for (let i = 0; i < 200 && miner.refusedWindows.length === 0; i++) await new Promise((res) => setTimeout(res, 50));
      expect(miner.refusedWindows).toHaveLength(1);
      const refused = miner.refusedWindows[0]!;
      expect(refused.window).toBe(host.validator.window.windowN);
      expect(refused.reason).toBe('bad_signature');
      expect(lines.join('\n')).toMatch(new RegExp(`m: window ${refused.window} skipped \\(bad_signature\\): window ${refused.window}: drand-quicknet round \\d+: (BLS signature does not verify|signature is not a valid G1 point)`));
      expect(miner.windows).toEqual([]);
      expect(host.traffic.window(refused.window).size).toBe(0); // nothing was sent for it
    } finally {
      await miner.stop();
      tamper = false;
    }
  });
});
