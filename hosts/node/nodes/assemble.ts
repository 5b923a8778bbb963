/**
 * Assembles the parts of a validator or a miner from a node config through the plugin registry (core/plugins:
 * tsyringe child containers; dependencies, options and single-instance kinds checked at registration).
 *
 * Defaults fill the kinds a config leaves out:
 *   validator: store-fs under `<data>/store` (no fsync), chain-local over it, beacon-local with a seed persisted in
 *              the store, env-arith;
 *   miner:     env-arith.
 * Plugins are registered in dependency order (store, chain, beacon, environment, selector, transport), whatever
 * their order in the config. The registered environments are then checked as a set (core/plugins/environment-set.ts:
 * duplicate names, missing specs, prompts the tokenizer cannot encode), which also yields the effective profile.
 *
 * @example
 *   const parts = await assembleValidator(await loadConfig('validator.json'), { dataDir: './data' });
 *   parts.environments.profile; parts.store; parts.chain; parts.beacon;
 */
import { join, resolve } from 'node:path';
import type { Beacon } from '../../../core/interfaces/beacon.ts';
import type { Environment } from '../../../core/interfaces/environment.ts';
import type { ObjectStore } from '../../../core/interfaces/store.ts';
import { environmentSet, EnvironmentSetError, type EnvironmentSet } from '../../../core/plugins/environment-set.ts';
import { createRegistry, PluginError, type AnyPlugin, type PluginRegistry } from '../../../core/plugins/registry.ts';
import { DEVNET, getProfile, type Profile } from '../../../core/profile/index.ts';
import { DEVNET_CHAR_TOKENIZER } from '../../../core/tokenizer/char.ts';
import type { LocalChain } from '../../../plugins/chain-local/index.ts';
import { persistedSeed } from '../devnet/validator-host.ts';
import { BUILTIN_PLUGINS, ConfigError, resolvePlugin, type NodeConfig } from './config.ts';

const KIND_ORDER = ['store', 'chain', 'beacon', 'environment', 'selector', 'transport'];

interface Loaded {
  readonly plugin: AnyPlugin;
  readonly options: Record<string, unknown>;
}

async function loadAll(config: NodeConfig): Promise<Loaded[]> {
  const out: Loaded[] = [];
  for (const e of config.plugins) out.push({ plugin: await resolvePlugin(e.use, config.baseDir), options: { ...e.options } });
  const rank = (k: string): number => (KIND_ORDER.includes(k) ? KIND_ORDER.indexOf(k) : KIND_ORDER.length);
  return out.map((l, i) => ({ l, i })).sort((a, b) => rank(a.l.plugin.kind) - rank(b.l.plugin.kind) || a.i - b.i).map((x) => x.l);
}

/** `registry.use`, with a registration mistake turned into one line. */
function use(r: PluginRegistry, l: Loaded): void {
  try {
    r.use(l.plugin, l.options);
  } catch (e) {
    if (e instanceof PluginError) throw new ConfigError(e.message);
    throw e;
  }
}

function profileOf(config: NodeConfig): Profile {
  if (config.profile === undefined) return DEVNET;
  try {
    return getProfile(config.profile);
  } catch (e) {
    throw new ConfigError(e instanceof Error ? e.message : String(e));
  }
}

function envSetOf(base: Profile, envs: readonly Environment[]): EnvironmentSet {
  try {
    return environmentSet(base, envs, { tokenizer: DEVNET_CHAR_TOKENIZER });
  } catch (e) {
    if (e instanceof EnvironmentSetError) throw new ConfigError(e.message);
    throw e;
  }
}

function resolveEnvs(r: PluginRegistry): readonly Environment[] {
  try {
    return r.get('environment');
  } catch (e) {
    if (e instanceof PluginError) throw new ConfigError(e.message);
    throw e;
  }
}

export interface ValidatorParts {
  readonly registry: PluginRegistry;
  readonly store: ObjectStore;
  readonly chain: LocalChain;
  readonly beacon: Beacon;
  readonly environments: EnvironmentSet;
  /** The base profile the config names (before the environments' entries). */
  readonly baseProfile: Profile;
}

/** The validator's store, chain, beacon and environments from `config` (defaults for what it leaves out). */
export async function assembleValidator(config: NodeConfig, o: { dataDir: string }): Promise<ValidatorParts> {
  const base = profileOf(config);
  const loaded = await loadAll(config);
  const has = (kind: string): boolean => loaded.some((l) => l.plugin.kind === kind);
  const r = createRegistry();
  if (!has('store')) use(r, { plugin: BUILTIN_PLUGINS['store-fs']!, options: { dir: join(resolve(o.dataDir), 'store'), fsync: false } });
  for (const l of loaded.filter((x) => x.plugin.kind === 'store')) use(r, l);
  if (!has('chain')) use(r, { plugin: BUILTIN_PLUGINS['chain-local']!, options: {} });
  for (const l of loaded.filter((x) => x.plugin.kind === 'chain')) use(r, l);
  const store = r.get('store');
  if (!has('beacon')) use(r, { plugin: BUILTIN_PLUGINS['beacon-local']!, options: { secretSeed: await persistedSeed(store, 'devnet/beacon-seed.bin', 48) } });
  if (!has('environment')) use(r, { plugin: BUILTIN_PLUGINS['env-arith']!, options: {} });
  for (const l of loaded.filter((x) => !['store', 'chain'].includes(x.plugin.kind))) use(r, l);
  const chain = r.get('chain') as LocalChain;
  if (typeof (chain as Partial<LocalChain>).register !== 'function') {
    throw new ConfigError(`the validator node registers its miners on a local chain; chain plugin "${chain.name}" cannot (use chain-local)`);
  }
  return { registry: r, store, chain, beacon: r.get('beacon'), environments: envSetOf(base, resolveEnvs(r)), baseProfile: base };
}

export interface MinerParts {
  readonly registry: PluginRegistry;
  readonly environments: EnvironmentSet;
  readonly baseProfile: Profile;
  readonly selector: 'frontier' | 'uniform';
}

/** The miner's environments from `config` (env-arith when it names none). */
export async function assembleMiner(config: NodeConfig): Promise<MinerParts> {
  const base = profileOf(config);
  const loaded = await loadAll(config);
  const r = createRegistry();
  if (!loaded.some((l) => l.plugin.kind === 'environment')) use(r, { plugin: BUILTIN_PLUGINS['env-arith']!, options: {} });
  for (const l of loaded) {
    if (l.plugin.kind !== 'environment') throw new ConfigError(`plugin "${l.plugin.name}" (${l.plugin.kind}): a miner config lists environment plugins (and "selector": frontier | uniform)`);
    use(r, l);
  }
  return { registry: r, environments: envSetOf(base, resolveEnvs(r)), baseProfile: base, selector: config.selector ?? 'frontier' };
}
