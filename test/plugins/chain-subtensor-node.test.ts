/**
 * chain-subtensor against a real subtensor runtime: runs only when SUBTENSOR_CHAIN_SPEC (a raw chain spec, run
 * under chopsticks in process) or SUBTENSOR_WS (a node) is set — see chain-subtensor-devchain.ts; otherwise the
 * suite is skipped, and its title says why. On one fresh subnet (three hotkeys, one staked validator): the
 * metagraph, the weights path detected, set_weights read back from `Weights(netuid, uid)`, an unregistered hotkey
 * and a rate limit refused before any fee, a missing subnet, and the commit-reveal path once the subnet enables it.
 */
import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainSubtensor, type SubtensorChain } from '../../plugins/chain-subtensor/index.ts';
import { devChainUnavailable, send, setupSubnet, startDevChain, type DevChain } from './chain-subtensor-devchain.ts';

const skip = devChainUnavailable();

describe.skipIf(skip !== null)(`chain-subtensor on a subtensor node${skip ? ` — SKIPPED: ${skip}` : ''}`, () => {
  let dev: DevChain;
  let netuid: number;
  let hotkeys: Record<'V' | 'M1' | 'M2', string>;
  let chain: SubtensorChain;
  let api: ApiPromise;
  const sudo = async (fn: string, ...args: unknown[]): Promise<void> => {
    const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
    await send(api, api.tx['sudo']!['sudo']!(api.tx['adminUtils']![fn]!(...args)), alice);
  };

  beforeAll(async () => {
    dev = await startDevChain();
    ({ netuid, hotkeys } = await setupSubnet(dev, { commitReveal: false }));
    chain = chainSubtensor({ endpoint: dev.endpoint, netuid, hotkey: '//V', connectTimeoutMs: 10_000, txTimeoutMs: 30_000 });
    api = await ApiPromise.create({ provider: new WsProvider(dev.endpoint), noInitWarn: true });
  }, 180_000);
  afterAll(async () => {
    await chain?.close();
    await api?.disconnect();
    await dev?.close();
  });

  it('reads the runtime, the metagraph and the clock', async () => {
    const rt = await chain.runtime();
    console.log(`subtensor runtime: ${rt.specName} spec_version ${rt.specVersion}; netuid ${netuid}`);
    expect(rt.specVersion).toBeGreaterThan(0);
    const snap = await chain.registry();
    const alice = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri('//Alice').address;
    const mine = snap.neurons.filter((n) => Object.values(hotkeys).includes(n.hotkey));
    expect(mine.map((n) => n.hotkey).sort()).toEqual(Object.values(hotkeys).sort());
    for (const n of mine) expect(n.coldkey).toBe(alice);
    expect(await chain.uidOf(hotkeys.V)).toBe(mine.find((n) => n.hotkey === hotkeys.V)!.uid);
    expect(await chain.uidOf(new Keyring({ type: 'sr25519' }).addFromUri('//Nobody').address)).toBeNull();
    const b0 = await chain.currentBlock();
    await dev.newBlocks(2);
    expect(await chain.currentBlock()).toBe(b0 + 2);
    expect(await chain.tempo()).toBe(10);
    expect(await chain.blocksUntilNextEpoch(b0)).toBe(10 - ((b0 + netuid + 1) % 11));
  });

  it('sets weights (set_weights with the chain\'s version key) and reads them back from Weights(netuid, uid)', async () => {
    const mode = await chain.weightsMode();
    expect(mode.path).toBe('set_weights');
    const snap = await chain.registry();
    const uid = (hk: string): number => snap.neurons.find((n) => n.hotkey === hk)!.uid;
    const receipt = await chain.submitWeights([uid(hotkeys.M2), uid(hotkeys.M1)], [0.75, 0.25]);
    expect(receipt.path).toBe('set_weights');
    const stored = (await api.query['subtensorModule']!['weights']!(netuid, receipt.uid)).toJSON() as [number, number][];
    expect(stored).toEqual([[uid(hotkeys.M1), 21845], [uid(hotkeys.M2), 65535]].sort((a, b) => a[0]! - b[0]!));
  });

  it('refuses an unregistered hotkey and a missing subnet before sending anything', async () => {
    const stranger = chainSubtensor({ endpoint: dev.endpoint, netuid, hotkey: '//Nobody' });
    await expect(stranger.setWeights([0], [1])).rejects.toMatchObject({ reason: 'unregistered' });
    await stranger.close();
    const nowhere = chainSubtensor({ endpoint: dev.endpoint, netuid: 999, hotkey: '//V' });
    await expect(nowhere.registry()).rejects.toMatchObject({ reason: 'no_subnet' });
    await nowhere.close();
  });

  it('a rate limit is refused with the block when it is allowed again', async () => {
    await sudo('sudoSetWeightsSetRateLimit', netuid, 100);
    const err = await chain.setWeights([0], [1]).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'rate_limited' });
    expect((err as Error).message).toMatch(/next allowed at block \d+/);
    await sudo('sudoSetWeightsSetRateLimit', netuid, 0);
  });

  it('commit-reveal: detected from the runtime; the path taken is reported', async () => {
    await sudo('sudoSetCommitRevealWeightsEnabled', netuid, true);
    const mode = await chain.weightsMode();
    console.log(`commit-reveal enabled: path ${mode.path}, CommitRevealWeightsVersion ${mode.commitRevealVersion}`);
    expect(mode.commitRevealEnabled).toBe(true);
    if (mode.path === 'timelocked') {
      await expect(chain.setWeights([0], [1])).rejects.toMatchObject({ reason: 'commit_reveal_unsupported' });
    } else {
      const r = await chain.submitWeights([0], [1]);
      expect(r.path).toBe('commit_reveal_v2');
      expect(chain.pendingReveals()).toBe(1);
    }
    await sudo('sudoSetCommitRevealWeightsEnabled', netuid, false);
  });
});
