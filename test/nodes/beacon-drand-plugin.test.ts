/**
 * The drand relay client as a registry beacon plugin (issue 12, item 6), against a local HTTP server on loopback
 * that replays recorded quicknet responses (test/vectors/drand-quicknet.json: real beacons). A faithful relay's
 * rounds verify; a relay serving a beacon with one flipped signature bit is refused with `bad_signature`.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BeaconError } from '../../core/interfaces/beacon.ts';
import { createRegistry } from '../../core/plugins/index.ts';
import { V4 } from '../../core/profile/index.ts';
import { beaconDrandPlugin } from '../../plugins/beacon-drand/index.ts';

const V = JSON.parse(readFileSync(new URL('../vectors/drand-quicknet.json', import.meta.url), 'utf8')) as {
  period: number; genesis_time: number; beacons: { round: number; signature: string; randomness: string }[];
};
const HASH = V4.drand.chainHash;

/** A relay replaying the recorded beacons; `tamper` flips one bit of every signature it serves. */
function relay(tamper: boolean): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = req.url ?? '';
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === `/${HASH}/info`) return send(200, { public_key: V4.drand.publicKey, period: V.period, genesis_time: V.genesis_time, hash: HASH, schemeID: 'bls-unchained-g1-rfc9380' });
    const m = new RegExp(`^/${HASH}/public/(\\d+|latest)$`).exec(path);
    const b = m ? (m[1] === 'latest' ? V.beacons[V.beacons.length - 1] : V.beacons.find((x) => x.round === Number(m[1]))) : undefined;
    if (!b) return send(404, { error: 'not found' });
    const signature = tamper ? `${b.signature.slice(0, -1)}${(parseInt(b.signature.slice(-1), 16) ^ 1).toString(16)}` : b.signature;
    return send(200, { round: b.round, signature });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server })));
}

let good: { url: string; server: Server };
let bad: { url: string; server: Server };
beforeAll(async () => {
  [good, bad] = await Promise.all([relay(false), relay(true)]);
});
afterAll(async () => {
  await Promise.all([good, bad].map((r) => new Promise((res) => r.server.close(res))));
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
