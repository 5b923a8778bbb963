/**
 * chain-subtensor without a node: weight normalisation to u16 as bittensor emits it, the commit-reveal v2 hash
 * (hand-written SCALE, checked against @polkadot/types' encoder), metagraph decoding of hostile raw reads, the
 * chain-error table, option checks, and a dead or silent endpoint (a clear `unreachable` after the reconnect
 * attempts, and the next call tries again). The node round trip is chain-subtensor-node.test.ts.
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { TypeRegistry } from '@polkadot/types';
import { blake2AsU8a, cryptoWaitReady, encodeAddress } from '@polkadot/util-crypto';
import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../core/plugins/index.ts';
import {
  chainSubtensor, chainSubtensorPlugin, commitHash, decodeMetagraph, explainDispatchError, normalizeWeightsU16, SubtensorError, weightsFromU16,
} from '../../plugins/chain-subtensor/index.ts';

describe('weights to u16', () => {
  it('max-upscales to 65535, rounds, sorts by uid, drops zeros', () => {
    expect(normalizeWeightsU16([3, 1, 7], [0.5, 0.25, 0.25])).toEqual({ uids: [1, 3, 7], values: [32768, 65535, 32768] });
    expect(normalizeWeightsU16([0, 5, 9], [1e-9, 0.3, 0])).toEqual({ uids: [5], values: [65535] });
    expect(normalizeWeightsU16([2], [123])).toEqual({ uids: [2], values: [65535] });
    const w = normalizeWeightsU16([0, 1, 2], [0.2, 0.3, 0.5]);
    expect(w.values).toEqual([26214, 39321, 65535]);
    weightsFromU16(w).forEach((x, i) => expect(x).toBeCloseTo([0.2, 0.3, 0.5][i]!, 4));
  });

  it.each([
    [[1, 2], [1], /2 uids but 1 weights/],
    [[1, 1], [1, 1], /uid 1 is listed twice/],
    [[-1], [1], /uid -1 is not an integer in 0..65535/],
    [[65536], [1], /uid 65536/],
    [[1.5], [1], /uid 1.5/],
    [[1], [Number.NaN], /weight NaN of uid 1/],
    [[1], [-0.1], /weight -0.1/],
    [[1], [Infinity], /weight Infinity/],
    [[1, 2], [0, 0], /every weight is 0/],
    [[], [], /every weight is 0/],
  ] as [number[], number[], RegExp][])('refuses %j / %j', (uids, weights, message) => {
    expect(() => normalizeWeightsU16(uids, weights)).toThrow(message);
  });
});

describe('commit-reveal v2 hash', () => {
  it('equals BlakeTwo256 of the SCALE tuple (hotkey, netuid, uids, values, salt, version_key) as @polkadot/types encodes it', async () => {
    await cryptoWaitReady();
    const registry = new TypeRegistry();
    const hotkey = Uint8Array.from({ length: 32 }, (_, i) => i * 7 + 1);
    for (const [netuid, n, versionKey] of [[81, 3, 0n], [1, 70, 1_234_567n], [65535, 20_000, (1n << 64n) - 1n]] as const) {
      const w = { uids: Array.from({ length: n }, (_, i) => i), values: Array.from({ length: n }, (_, i) => (i * 977) % 65536) };
      const salt = [1, 2, 3, 65535, 0, 9, 8, 7];
      const encoded = registry.createType('(AccountId32, u16, Vec<u16>, Vec<u16>, Vec<u16>, u64)', [hotkey, netuid, w.uids, w.values, salt, versionKey]).toU8a();
      expect(commitHash(hotkey, netuid, w, salt, versionKey)).toEqual(blake2AsU8a(encoded, 256));
    }
    expect(() => commitHash(new Uint8Array(31), 1, { uids: [], values: [] }, [], 0n)).toThrow(/32-byte public key/);
    expect(() => commitHash(hotkey, 1, { uids: [], values: [] }, [], -1n)).toThrow(/not a u64/);
  });
});

describe('metagraph decoding', () => {
  it('builds neurons by uid with coldkeys and permits, dropping malformed entries', async () => {
    await cryptoWaitReady();
    const addr = (b: number): string => encodeAddress(new Uint8Array(32).fill(b), 42);
    const { neurons, dropped } = decodeMetagraph({
      keys: [[2, addr(2)], [0, addr(1)], [1, 'not-an-address'], [70_000, addr(3)], [0, addr(4)], ['5', addr(5)], [3, addr(6)]],
      owners: new Map<string, unknown>([[addr(1), addr(11)], [addr(2), addr(12)], [addr(3), addr(13)], [addr(4), addr(14)], [addr(5), addr(15)], [addr(6), 42]]),
      permits: [true, 'yes', false],
    });
    expect(neurons).toEqual([
      { uid: 0, hotkey: addr(1), coldkey: addr(11), validatorPermit: true },
      { uid: 2, hotkey: addr(2), coldkey: addr(12), validatorPermit: false },
    ]);
    expect(dropped).toBe(5); // bad address, uid > u16, duplicate uid 0, uid not a number, coldkey not an address
  });
});

describe('chain errors', () => {
  it.each([
    ['SubtensorModule.HotKeyNotRegisteredInSubNet', 'unregistered', /not registered on this subnet: register it/],
    ['SubtensorModule.SettingWeightsTooFast', 'rate_limited', /set too recently \(WeightsSetRateLimit\)/],
    ['SubtensorModule.NeuronNoValidatorPermit', 'no_permit', /no validator permit/],
    ['SubtensorModule.IncorrectWeightVersionKey', 'version_key', /WeightsVersionKey/],
    ['SubtensorModule.NotEnoughStakeToSetWeights', 'stake', /too little stake/],
    ['SubtensorModule.UidVecContainInvalidOne', 'bad_weights', /weight vector/],
    ['SubtensorModule.CommitRevealEnabled', 'commit_reveal', /commit-reveal/],
    ['SubtensorModule.SomethingNew', 'rejected', /rejected the transaction \[SubtensorModule.SomethingNew\]/],
    ['1010: Invalid Transaction: Custom error: 6', 'rate_limited', /transaction pool: RateLimitExceeded/],
    ['1010: Invalid Transaction: Custom error: 10', 'unregistered', /HotKeyNotRegisteredInNetwork/],
    ['1010: Invalid Transaction: Custom error: 200', 'rejected', /custom error 200/],
  ])('%s → %s', (raw, reason, message) => {
    const e = explainDispatchError(raw, 'set weights on netuid 81');
    expect(e).toBeInstanceOf(SubtensorError);
    expect(e.reason).toBe(reason);
    expect(e.message).toMatch(/^set weights on netuid 81: /);
    expect(e.message).toMatch(message);
  });
});

describe('options', () => {
  it('refuses bad options with a message that says what to fix', () => {
    expect(() => chainSubtensor({ endpoint: 'http://x' })).toThrow(/`endpoint` "http:\/\/x" is not a ws:\/\/ or wss:\/\/ URL/);
    expect(() => chainSubtensor({ netuid: -1 })).toThrow(/`netuid` -1/);
    expect(() => chainSubtensor({ netuid: 70_000 })).toThrow(/`netuid` 70000/);
    expect(() => chainSubtensor({ hotkey: ' ' })).toThrow(/`hotkey`/);
    expect(() => chainSubtensor({ versionKey: -3 })).toThrow(/`versionKey`/);
    expect(() => chainSubtensor({ txTimeoutMs: 0 })).toThrow(/`txTimeoutMs`/);
  });

  it('registers as the chain plugin, unknown options refused', () => {
    const app = createRegistry().use(chainSubtensorPlugin, { endpoint: 'ws://127.0.0.1:9944', netuid: 2 }).assemble(['chain']);
    expect(app.chain.name).toBe('subtensor');
    expect(() => createRegistry().use(chainSubtensorPlugin, { netuuid: 2 } as never)).toThrow(/unknown option "netuuid"/);
  });

  it('a read-only chain refuses to set weights, saying which option is missing (no connection attempted)', async () => {
    const chain = chainSubtensor({ endpoint: 'ws://127.0.0.1:1', connectTimeoutMs: 200 });
    await expect(chain.setWeights([0], [1])).rejects.toMatchObject({ reason: 'no_hotkey', message: expect.stringMatching(/set the `hotkey` option/) });
    await expect(chain.setWeights([0, 0], [1, 1])).rejects.toThrow(/listed twice/);
    expect(await chain.hotkeyAddress).toBeNull();
    await chain.close();
  });
});

describe('dead endpoints and reconnection', () => {
  it('a dead port: unreachable within connectTimeoutMs, naming the endpoint and the failed attempts; the next call tries again', async () => {
    const port = await freePort();
    const chain = chainSubtensor({ endpoint: `ws://127.0.0.1:${port}`, netuid: 2, connectTimeoutMs: 1_500, reconnectMs: 200 });
    for (let call = 0; call < 2; call++) {
      const err = await chain.currentBlock().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SubtensorError);
      expect(err).toMatchObject({ reason: 'unreachable' });
      expect((err as Error).message).toMatch(new RegExp(`ws://127\\.0\\.0\\.1:${port}: the subtensor endpoint could not be reached: check .* \\[\\d+ failed attempts? \\(last: .*ECONNREFUSED.*\\) in 1500 ms\\]`));
    }
    await chain.close();
  });

  it('a server that accepts TCP but never speaks WebSocket: unreachable, and every reconnect attempt was made', async () => {
    let connections = 0;
    const server: Server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const chain = chainSubtensor({ endpoint: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, connectTimeoutMs: 1_500, reconnectMs: 200 });
    await expect(chain.registry()).rejects.toMatchObject({ reason: 'unreachable' });
    expect(connections).toBeGreaterThanOrEqual(2); // it reconnected rather than giving up at the first refusal
    await chain.close();
    await new Promise<void>((r) => server.close(() => r()));
  });
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
