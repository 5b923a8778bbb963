/**
 * Node configs: a validator or a miner described by the plugins it is assembled from (design.md "Roles and
 * configs"). A config is a JSON file, or a JS module whose default export is the object:
 *
 *   {
 *     "profile": "reliquary-devnet-v2",                 // optional (default: the devnet profile)
 *     "selector": "frontier",                           // miner: frontier | uniform (default frontier)
 *     "role": "follower", "follow": "5F…" | "http://…", // validator: follow a leader (its store is this config's store)
 *     "plugins": [
 *       "env-arith",                                    // a built-in plugin by name
 *       { "use": "beacon-drand", "options": { "relays": ["http://127.0.0.1:8081"] } },
 *       { "use": "store-s3", "options": { "bucket": "b", "endpoint": "http://127.0.0.1:9000", "keyPrefix": "v1/",
 *                                         "forcePathStyle": true, "accessKeyId": "…", "secretAccessKey": "…" } },
 *       { "use": "./my-env.mjs", "options": { … } }     // a module (path relative to the config) or a package name
 *     ]
 *   }
 *
 * A module plugin is anything exporting a plugin object `{ name, kind, requires?, defaults?, create }` (the
 * `definePlugin` shape; as the default export, as `plugin`, or as any named export of that shape). `--env MODULE` on
 * the command line adds one more environment plugin the same way. Kinds a config leaves out get the defaults of the
 * role (`assemble.ts`). Every mistake is a `ConfigError` with one actionable line.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyPlugin } from '../../../core/plugins/registry.ts';
import { beaconDrandPlugin } from '../../../plugins/beacon-drand/index.ts';
import { beaconLocalPlugin } from '../../../plugins/beacon-local/index.ts';
import { chainLocalPlugin } from '../../../plugins/chain-local/index.ts';
import { envArithPlugin } from '../../../plugins/env-arith/index.ts';
import { envMathPlugin } from '../../../plugins/env-math/index.ts';
import { selectorFrontierPlugin } from '../../../plugins/selector-frontier/index.ts';
import { selectorUniformPlugin } from '../../../plugins/selector-uniform/index.ts';
import { storeFsPlugin } from '../../../plugins/store-fs/index.ts';
import { transportHttpPlugin } from '../../../plugins/transport-http/index.ts';

/** A user mistake in a config or a plugin module: printed as one line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface PluginEntry {
  /** A built-in plugin name, a module path (relative to the config file) or a package name. */
  readonly use: string;
  readonly options?: Readonly<Record<string, unknown>>;
}

export interface NodeConfig {
  readonly profile?: string;
  readonly selector?: 'frontier' | 'uniform';
  /** A validator config's role: `follower` re-verifies a leader's windows instead of running a market (follower-command.ts). */
  readonly role?: 'validator' | 'follower';
  /** The leader a follower follows: its hotkey (ss58) or its URL. */
  readonly follow?: string;
  readonly plugins: readonly PluginEntry[];
  /** Where relative module paths are resolved (the config file's directory). */
  readonly baseDir: string;
}

/** Plugins every host knows by name. */
export const BUILTIN_PLUGINS: Readonly<Record<string, AnyPlugin>> = Object.freeze({
  'store-fs': storeFsPlugin,
  'chain-local': chainLocalPlugin,
  'beacon-local': beaconLocalPlugin,
  'beacon-drand': beaconDrandPlugin,
  'env-arith': envArithPlugin,
  'env-math': envMathPlugin,
  'selector-frontier': selectorFrontierPlugin,
  'selector-uniform': selectorUniformPlugin,
  'transport-http': transportHttpPlugin,
} as Record<string, AnyPlugin>);

/** Built-ins loaded on first use (their dependencies are heavy: the AWS SDK is ~0.5 s to import). */
export const LAZY_BUILTIN_PLUGINS: Readonly<Record<string, () => Promise<AnyPlugin>>> = Object.freeze({
  'store-s3': async () => (await import('../../../plugins/store-s3/plugin.ts')).storeS3Plugin as AnyPlugin,
});

const builtinNames = (): string => [...Object.keys(BUILTIN_PLUGINS), ...Object.keys(LAZY_BUILTIN_PLUGINS)].join(', ');

/** The empty config: every kind from the role's defaults. */
export const EMPTY_CONFIG: NodeConfig = Object.freeze({ plugins: Object.freeze([]), baseDir: process.cwd() });

const isPlugin = (x: unknown): x is AnyPlugin =>
  typeof x === 'object' && x !== null && typeof (x as AnyPlugin).name === 'string' && typeof (x as AnyPlugin).kind === 'string' &&
  typeof (x as AnyPlugin).create === 'function';

/** Checks a parsed config value; `where` names the file in errors. */
export function parseConfig(value: unknown, where: string, baseDir: string): NodeConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`${where}: a config is an object { "plugins": [ … ] }`);
  const v = value as Record<string, unknown>;
  const known = ['profile', 'selector', 'role', 'follow', 'plugins'];
  const unknown = Object.keys(v).filter((k) => !known.includes(k));
  if (unknown.length) throw new ConfigError(`${where}: unknown key ${unknown.map((k) => `"${k}"`).join(', ')} (known: ${known.join(', ')})`);
  if (v['profile'] !== undefined && typeof v['profile'] !== 'string') throw new ConfigError(`${where}: "profile" must be a profile id string`);
  if (v['selector'] !== undefined && v['selector'] !== 'frontier' && v['selector'] !== 'uniform') throw new ConfigError(`${where}: "selector" must be "frontier" or "uniform"`);
  if (v['role'] !== undefined && v['role'] !== 'validator' && v['role'] !== 'follower') throw new ConfigError(`${where}: "role" must be "validator" or "follower"`);
  if (v['follow'] !== undefined && (typeof v['follow'] !== 'string' || v['role'] !== 'follower')) throw new ConfigError(`${where}: "follow" is the leader's hotkey or URL (a string), with "role": "follower"`);
  const raw = v['plugins'] ?? [];
  if (!Array.isArray(raw)) throw new ConfigError(`${where}: "plugins" must be a list`);
  const plugins = raw.map((p: unknown, i): PluginEntry => {
    if (typeof p === 'string') return { use: p };
    if (typeof p !== 'object' || p === null || typeof (p as PluginEntry).use !== 'string') throw new ConfigError(`${where}: plugins[${i}] must be a name or { "use": NAME, "options": { … } }`);
    const o = (p as PluginEntry).options;
    if (o !== undefined && (typeof o !== 'object' || o === null || Array.isArray(o))) throw new ConfigError(`${where}: plugins[${i}].options must be an object`);
    return { use: (p as PluginEntry).use, ...(o !== undefined && { options: o }) };
  });
  return {
    ...(v['profile'] !== undefined && { profile: v['profile'] as string }), ...(v['selector'] !== undefined && { selector: v['selector'] as 'frontier' | 'uniform' }),
    ...(v['role'] !== undefined && { role: v['role'] as 'validator' | 'follower' }), ...(v['follow'] !== undefined && { follow: v['follow'] as string }), plugins, baseDir,
  };
}

/** Reads a config file: `.json`, or a module (`.js`, `.mjs`) whose default export is the config. */
export async function loadConfig(file: string): Promise<NodeConfig> {
  const path = resolve(file);
  if (/\.(m?js|cjs|ts)$/.test(path)) {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`--config ${file}: cannot load the module: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
    return parseConfig(mod['default'] ?? mod['config'], `--config ${file}`, dirname(path));
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`--config ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`--config ${file}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  return parseConfig(value, `--config ${file}`, dirname(path));
}

/** The plugin an entry names: a built-in, or the plugin exported by a module path or package. */
export async function resolvePlugin(use: string, baseDir: string): Promise<AnyPlugin> {
  const builtin = BUILTIN_PLUGINS[use] ?? (await LAZY_BUILTIN_PLUGINS[use]?.());
  if (builtin) return builtin;
  const isPath = use.startsWith('.') || isAbsolute(use) || /\.(m?js|cjs|ts)$/.test(use);
  const spec = isPath ? pathToFileURL(resolve(baseDir, use)).href : use;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(spec)) as Record<string, unknown>;
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new ConfigError(`plugin "${use}" is not a built-in (${builtinNames()}) and cannot be imported: ${why}`);
  }
  const candidates = [mod['default'], mod['plugin'], ...Object.values(mod)].filter(isPlugin);
  const found = candidates[0];
  if (!found) throw new ConfigError(`module "${use}" exports no plugin (an object { name, kind, defaults, create }: see docs/plugins.md)`);
  return { ...found, requires: found.requires ?? [], defaults: found.defaults ?? {} } as AnyPlugin;
}

/** `--env MODULE` entries appended to a config. */
export function withEnvModules(config: NodeConfig, envs: readonly string[]): NodeConfig {
  if (envs.length === 0) return config;
  const cwd = process.cwd();
  // --env paths are relative to the working directory, not to the config file.
  return { ...config, plugins: [...config.plugins, ...envs.map((e) => ({ use: e.startsWith('.') ? resolve(cwd, e) : e }))] };
}
