/**
 * A drand relay on loopback replaying the recorded quicknet beacons of test/vectors/drand-quicknet.json (real
 * rounds; drand HTTP v1 paths: `/{hash}/info`, `/{hash}/public/{n|latest}`, `latest` = the last recorded round), for
 * the tests of the beacon-drand plugin, of a validator configured with it, and of the miners' checks.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { V4 } from '../../core/profile/index.ts';

export const QUICKNET_VECTORS = JSON.parse(readFileSync(new URL('../vectors/drand-quicknet.json', import.meta.url), 'utf8')) as {
  period: number; genesis_time: number; beacons: { round: number; signature: string; randomness: string }[];
};

/** One bit of a hex signature flipped. */
export const flipLastBit = (sig: string): string => `${sig.slice(0, -1)}${(parseInt(sig.slice(-1), 16) ^ 1).toString(16)}`;

/** Starts the relay; `tamper` flips one bit of every signature it serves. */
export function quicknetRelay(tamper = false): Promise<{ url: string; close: () => Promise<void> }> {
  const V = QUICKNET_VECTORS;
  const hash = V4.drand.chainHash;
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '';
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === `/${hash}/info`) return send(200, { public_key: V4.drand.publicKey, period: V.period, genesis_time: V.genesis_time, hash, schemeID: 'bls-unchained-g1-rfc9380' });
    const m = new RegExp(`^/${hash}/public/(\\d+|latest)$`).exec(path);
    const b = m ? (m[1] === 'latest' ? V.beacons[V.beacons.length - 1] : V.beacons.find((x) => x.round === Number(m[1]))) : undefined;
    if (!b) return send(404, { error: 'not found' });
    return send(200, { round: b.round, signature: tamper ? flipLastBit(b.signature) : b.signature });
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  })));
}
