/**
 * A subtensor dev chain for the chain-subtensor tests: either `SUBTENSOR_WS` (a node someone started; it must have
 * a funded `//Alice` as sudo, as subtensor's localnet does), or `SUBTENSOR_CHAIN_SPEC` (a raw chain spec, e.g.
 * opentensor/subtensor's scripts/specs/raonet.json, which cannot be shipped here: it embeds the compiled runtime)
 * run in process under chopsticks (`@acala-network/chopsticks`, not a dependency of this repository: install it
 * with `npm install --no-save --ignore-scripts @acala-network/chopsticks`, or point `CHOPSTICKS_MODULE` at its
 * entry file). `setupSubnet` then makes a subnet with three registered, staked hotkeys, the way a validator meets
 * one: sudo-set limits and tempo, register the network, burned_register, add_stake, build blocks for permits.
 */
import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface DevChain {
  readonly endpoint: string;
  /** Builds `n` blocks now (chopsticks only; on a real node, waits for them). */
  newBlocks(n: number): Promise<void>;
  close(): Promise<void>;
}

/** Why the node tests cannot run here, or null when they can. */
export function devChainUnavailable(): string | null {
  if (process.env['SUBTENSOR_WS'] || process.env['SUBTENSOR_CHAIN_SPEC']) return null;
  return 'no subtensor node: set SUBTENSOR_CHAIN_SPEC=<raw chain spec json> (run under chopsticks) or SUBTENSOR_WS=<ws url> to run these tests';
}

type Pair = ReturnType<Keyring['addFromUri']>;

export async function startDevChain(): Promise<DevChain> {
  const ws = process.env['SUBTENSOR_WS'];
  if (ws) {
    return {
      endpoint: ws,
      newBlocks: async (n) => {
        const api = await ApiPromise.create({ provider: new WsProvider(ws), noInitWarn: true });
        const start = (await api.rpc.chain.getHeader()).number.toNumber();
        while ((await api.rpc.chain.getHeader()).number.toNumber() < start + n) await new Promise((r) => setTimeout(r, 500));
        await api.disconnect();
      },
      close: async () => {},
    };
  }
  const specPath = process.env['SUBTENSOR_CHAIN_SPEC']!;
  const moduleId = process.env['CHOPSTICKS_MODULE'] ? pathToFileURL(process.env['CHOPSTICKS_MODULE']).href : '@acala-network/chopsticks';
  let chopsticks: { setupWithServer(o: object): Promise<{ addr: string; chain: { newBlock(): Promise<unknown>; head: { number: number } }; close(): Promise<void> }> };
  try {
    chopsticks = await import(/* @vite-ignore */ moduleId);
  } catch (e) {
    throw new Error(`SUBTENSOR_CHAIN_SPEC is set but chopsticks cannot be loaded (${e instanceof Error ? e.message : String(e)}): npm install --no-save --ignore-scripts @acala-network/chopsticks, or set CHOPSTICKS_MODULE`);
  }
  await cryptoWaitReady();
  const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice').address;
  const genesis = JSON.parse(readFileSync(specPath, 'utf8'));
  const ctx = await chopsticks.setupWithServer({
    genesis,
    port: 0,
    host: '127.0.0.1',
    'build-block-mode': 'Instant',
    'import-storage': {
      Sudo: { Key: alice },
      System: { Account: [[[alice], { providers: 1, data: { free: '1000000000000000000' } }]] },
    },
  });
  const chain = ctx.chain;
  // the first block can lose an Aura slot race: build until the head is at least 1
  for (let i = 0; i < 5 && chain.head.number < 1; i++) await chain.newBlock().catch(() => {});
  return {
    endpoint: `ws://${ctx.addr}`,
    newBlocks: async (n) => {
      for (let i = 0; i < n; i++) await chain.newBlock();
    },
    close: () => ctx.close(),
  };
}

/** Signs and waits for inclusion; throws the dispatch error's name. */
export async function send(api: ApiPromise, tx: any, pair: Pair): Promise<void> {
  const nonce = await api.rpc.system.accountNextIndex(pair.address);
  await new Promise<void>((resolve, reject) => {
    tx.signAndSend(pair, { nonce }, (r: any) => {
      if (r.dispatchError) {
        const e = r.dispatchError.isModule ? api.registry.findMetaError(r.dispatchError.asModule) : null;
        reject(new Error(e ? `${e.section}.${e.name}` : r.dispatchError.toString()));
      } else if (r.status.isInBlock || r.status.isFinalized) resolve();
      else if (r.status.isInvalid || r.status.isDropped) reject(new Error(`tx ${r.status.type}`));
    }).catch(reject);
  });
}

/** Registers a subnet owned by //Alice, with //V (validator), //M1, //M2 registered and //V staked. Returns its netuid. */
export async function setupSubnet(chain: DevChain, options: { commitReveal: boolean }): Promise<{ netuid: number; hotkeys: Record<'V' | 'M1' | 'M2', string> }> {
  await cryptoWaitReady();
  const api = await ApiPromise.create({ provider: new WsProvider(chain.endpoint), noInitWarn: true });
  try {
    const kr = new Keyring({ type: 'sr25519' });
    const alice = kr.addFromUri('//Alice');
    const [V, M1, M2] = ['//V', '//M1', '//M2'].map((u) => kr.addFromUri(u)) as [Pair, Pair, Pair];
    const admin = api.tx['adminUtils']!;
    const sudo = (call: any): Promise<void> => send(api, api.tx['sudo']!['sudo']!(call), alice);
    await sudo(admin['sudoSetNetworkRateLimit']!(0));
    const before = Number((await api.query['subtensorModule']!['totalNetworks']!()).toString());
    const register = api.tx['subtensorModule']!['registerNetwork']!;
    await send(api, register.meta.args.length === 2 ? register(alice.address, 1) : register(alice.address), alice); // (hotkey, mechid) on spec 218
    // the new netuid: the highest added network
    const added = await api.query['subtensorModule']!['networksAdded']!.entries();
    const netuid = Math.max(...added.filter(([, v]) => (v as any).isTrue).map(([k]) => Number(k.args[0]!.toString())));
    if (!(netuid >= 1)) throw new Error(`no subnet was added (TotalNetworks was ${before})`);
    for (const [fn, ...args] of [
      ['sudoSetTempo', netuid, 10], ['sudoSetWeightsSetRateLimit', netuid, 0], ['sudoSetTargetRegistrationsPerInterval', netuid, 100],
      ['sudoSetMaxRegistrationsPerBlock', netuid, 100], ['sudoSetCommitRevealWeightsEnabled', netuid, options.commitReveal],
    ] as [string, ...unknown[]][]) {
      if (admin[fn]) await sudo(admin[fn]!(...args));
    }
    for (const hk of [V, M1, M2]) await send(api, api.tx['subtensorModule']!['burnedRegister']!(netuid, hk.address), alice);
    if (api.tx['subtensorModule']!['startCall']) await send(api, api.tx['subtensorModule']!['startCall']!(netuid), alice).catch(() => {});
    await send(api, api.tx['subtensorModule']!['addStake']!(V.address, netuid, 1_000_000_000_000n), alice);
    await chain.newBlocks(12); // an epoch passes: validator permits
    return { netuid, hotkeys: { V: V.address, M1: M1.address, M2: M2.address } };
  } finally {
    await api.disconnect();
  }
}
