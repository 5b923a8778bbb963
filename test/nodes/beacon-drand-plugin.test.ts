/**
 * The drand relay client as a registry beacon plugin (issue 12, item 6), against a local HTTP server on loopback
 * that replays recorded quicknet responses (test/vectors/drand-quicknet.json: real beacons). A faithful relay's
 * rounds verify; a relay serving a beacon with one flipped signature bit is refused with `bad_signature`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BeaconError } from '../../core/interfaces/beacon.ts';
import { createRegistry } from '../../core/plugins/index.ts';
import { beaconDrandPlugin } from '../../plugins/beacon-drand/index.ts';
import { QUICKNET_VECTORS as V, quicknetRelay } from './quicknet-relay.ts';

let good: { url: string; close: () => Promise<void> };
let bad: { url: string; close: () => Promise<void> };
beforeAll(async () => {
  [good, bad] = await Promise.all([quicknetRelay(false), quicknetRelay(true)]);
});
afterAll(async () => {
  await Promise.all([good.close(), bad.close()]);
});

describe('beacon-drand plugin', () => {
  it('is assembled by the registry and serves verified recorded rounds from a loopback relay', async () => {
    const beacon = createRegistry().use(beaconDrandPlugin, { relays: [good.url], timeoutMs: 2000, attempts: 1 }).get('beacon');
    expect(beacon.name).toBe('drand-quicknet');
    for (const b of V.beacons) {
      const r = await beacon.round(b.round);
      expect(r.round).toBe(b.round);
      expect(r.randomness).toBe(b.randomness);
    }
    expect((await beacon.latest()).round).toBe(V.beacons[V.beacons.length - 1]!.round);
  });

  it('refuses a tampered beacon with bad_signature, naming the relay', async () => {
    const beacon = createRegistry().use(beaconDrandPlugin, { relays: [bad.url], timeoutMs: 2000, attempts: 1 }).get('beacon');
    const err = await beacon.round(V.beacons[2]!.round).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(BeaconError);
    const be = err as BeaconError;
    expect(be.failures.map((f) => f.reason)).toContain('bad_signature');
    expect(be.message).toContain(bad.url);
    expect(be.message).toContain('bad_signature');
  });

  it('refuses an unknown option at registration', () => {
    expect(() => createRegistry().use(beaconDrandPlugin, { relay: 'x' } as never)).toThrow(/unknown option "relay"/);
  });
});
