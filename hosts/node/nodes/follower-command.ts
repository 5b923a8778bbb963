/**
 * `reliquary validator --follow <leader-ss58|URL> [--config F] [--store SPEC] [--publish SPEC] [--data DIR]
 * [--port P] [--windows N] [--poll-seconds S] [--report FILE]`: the validator node in its follower role
 * (core/validator/follower-node.ts). A config with `"role": "follower"` (and `"follow"`) selects it too; its store
 * plugin, or `--store`, is the *leader's* store, read only. It polls that store for newly sealed windows, re-verifies
 * each (the audit's replay), publishes its signed verdicts into `--publish` (default: its own store under --data),
 * and serves on 127.0.0.1:P
 *
 *   GET /follow                 { leader, follower, agreement, auditOk, windows: [FollowerWindow], failed: [AuditLine] }
 *   GET /follow/window/:w       the signed verdict record of window w (follower.ts), 404 before it is published
 *
 * The follower's key is a 32-byte seed in `<data>/follower-seed.bin`, created on first run. One line per verified
 * window on stderr. Exit 0 when every check held and the two validators agree on every proved group, else 1; 2 on
 * a usage error (one line).
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Hono } from 'hono';
import type { AuditLine } from '../../../core/audit/audit.ts';
import type { Chain } from '../../../core/interfaces/chain.ts';
import type { Environment } from '../../../core/interfaces/environment.ts';
import type { ObjectStore } from '../../../core/interfaces/store.ts';
import { loadCheckpoint } from '../../../core/model/checkpoint.ts';
import { environmentSet } from '../../../core/plugins/environment-set.ts';
import { createRegistry, PluginError, type PluginRegistry } from '../../../core/plugins/registry.ts';
import { DEVNET, getProfile, type Profile } from '../../../core/profile/index.ts';
import { signerFromSeed } from '../../../core/protocol/sr25519.ts';
import { DEVNET_CHAR_TOKENIZER } from '../../../core/tokenizer/char.ts';
import { followerVerdictKey, type FollowerResult, type FollowerWindow } from '../../../core/validator/follower.ts';
import { FollowerNode } from '../../../core/validator/follower-node.ts';
import { checkpointRevision } from '../../../core/validator/publish.ts';
import { createNodeWasmBackend } from '../../../kernels/wasm/node.ts';
import { listen, type Listening } from '../../../plugins/transport-http/listen-node.ts';
import { nodeCheckpointFs } from '../fs-checkpoint.ts';
import { BUILTIN_PLUGINS, ConfigError, EMPTY_CONFIG, loadConfig, resolvePlugin, withEnvModules, type NodeConfig, type PluginEntry } from './config.ts';
import { storeEntry, withStore } from './store-spec.ts';

export interface FollowerCommandOptions {
  follow?: string;
  config?: string;
  env?: string[];
  store?: string;
  publish?: string;
  data?: string;
  port?: string;
  windows?: string;
  pollSeconds?: string;
  model?: string;
  report?: string;
  quiet?: boolean;
  /** Tests: stop when aborted; the profile (default: the config's, with its environments). */
  signal?: AbortSignal;
  profile?: Profile;
  onListening?: (url: string) => void;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

/** One stderr line per verified window. */
export function formatFollowerWindow(w: FollowerWindow): string {
  return `follower: window ${w.window}: ${w.groups} proved group(s), leader accepted ${w.leaderAccepted}, follower ${w.followerAccepted}, `
    + `spread ${pct(w.spread)}, agreement ${pct(w.agreement)}${w.flagged.length ? `, FLAGGED ${w.flagged.map((g) => g.id.slice(0, 10)).join(' ')}` : ''}`
    + `${w.failedChecks.length ? `, failed checks: ${w.failedChecks.join(', ')}` : ''}`;
}

const register = (r: PluginRegistry, plugin: Awaited<ReturnType<typeof resolvePlugin>>, options: Record<string, unknown>): void => {
  try {
    r.use(plugin, options);
  } catch (e) {
    throw e instanceof PluginError ? new ConfigError(e.message) : e;
  }
};

/** The leader's store, the chain and the environments of a follower config (other plugin kinds are a mistake). */
async function assembleFollower(config: NodeConfig): Promise<{ store: ObjectStore; chain: Chain; envs: readonly Environment[] }> {
  const loaded = await Promise.all(config.plugins.map(async (e) => ({ plugin: await resolvePlugin(e.use, config.baseDir), options: { ...e.options } })));
  const bad = loaded.find((l) => !['store', 'chain', 'environment'].includes(l.plugin.kind));
  if (bad) throw new ConfigError(`plugin "${bad.plugin.name}" (${bad.plugin.kind}): a follower lists the leader's store, a chain and environment plugins only`);
  if (!loaded.some((l) => l.plugin.kind === 'store')) throw new ConfigError("a follower reads the leader's store: give --store fs:DIR|s3://… or list a store plugin in the config");
  const r = createRegistry();
  const of = (k: string) => loaded.filter((l) => l.plugin.kind === k);
  for (const l of of('store')) register(r, l.plugin, l.options);
  if (!of('chain').length) register(r, BUILTIN_PLUGINS['chain-local']!, {});
  for (const l of of('chain')) register(r, l.plugin, l.options);
  if (!of('environment').length) register(r, BUILTIN_PLUGINS['env-arith']!, {});
  for (const l of of('environment')) register(r, l.plugin, l.options);
  return { store: r.get('store'), chain: r.get('chain'), envs: r.get('environment') };
}

/** The store of a spec, outside any registry (the follower's own store for its verdicts). */
async function openStore(spec: string): Promise<ObjectStore> {
  const e: PluginEntry = storeEntry(spec, '--publish');
  const p = await resolvePlugin(e.use, process.cwd());
  return p.create({} as never, { ...p.defaults, ...e.options }) as ObjectStore;
}

/** The leader's hotkey: given, or read from its `/node` route. */
async function leaderHotkey(follow: string): Promise<string> {
  if (!/^https?:\/\//.test(follow)) return follow;
  try {
    const r = await fetch(`${follow.replace(/\/+$/, '')}/node`);
    const j = (await r.json()) as { hotkey?: unknown };
    if (typeof j.hotkey === 'string') return j.hotkey;
  } catch {
    // said below
  }
  throw new ConfigError(`--follow ${follow}: no validator answers /node there (give the leader's hotkey instead)`);
}

async function followerSeed(dataDir: string): Promise<Uint8Array> {
  const file = join(dataDir, 'follower-seed.bin');
  const have = await readFile(file).catch(() => null);
  if (have && have.length === 32) return have;
  if (have) throw new ConfigError(`${file}: not a 32-byte seed (${have.length} bytes)`);
  const seed = crypto.getRandomValues(new Uint8Array(32));
  await writeFile(file, seed);
  await chmod(file, 0o600);
  return seed;
}

const int = (v: string | undefined, dflt: number | undefined, flag: string, min: number, max: number): number | undefined => {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new ConfigError(`${flag} must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return n;
};

/** Runs the follower; resolves to the exit code. */
export async function followerCommand(opts: FollowerCommandOptions, root: string): Promise<number> {
  const err = (t: string): void => void process.stderr.write(`${t}\n`);
  const log = opts.quiet ? () => {} : err;
  const stop = new AbortController();
  opts.signal?.addEventListener('abort', () => stop.abort());
  const onSignal = (): void => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let node: FollowerNode | null = null;
  let server: Listening | null = null;
  let be: Awaited<ReturnType<typeof createNodeWasmBackend>> | null = null;
  try {
    const windows = int(opts.windows, undefined, '--windows', 1, 1_000_000);
    const port = int(opts.port, 0, '--port', 0, 65535)!;
    const poll = int(opts.pollSeconds, 2, '--poll-seconds', 0.05, 3600)!;
    const config = withStore(withEnvModules(opts.config ? await loadConfig(opts.config) : EMPTY_CONFIG, opts.env ?? []), opts.store);
    const follow = opts.follow ?? config.follow;
    if (follow === undefined) throw new ConfigError('a follower needs its leader: --follow <hotkey|URL> or "follow" in the config');
    const dataDir = resolve(process.cwd(), opts.data ?? './data-follower');
    await mkdir(dataDir, { recursive: true });
    const parts = await assembleFollower(config);
    let base: Profile;
    try {
      base = opts.profile ?? (config.profile === undefined ? DEVNET : getProfile(config.profile));
    } catch (e) {
      throw new ConfigError(e instanceof Error ? e.message : String(e));
    }
    const profile = opts.profile ?? environmentSet(base, parts.envs, { tokenizer: DEVNET_CHAR_TOKENIZER }).profile;
    const leader = await leaderHotkey(follow);
    const signer = signerFromSeed(await followerSeed(dataDir));
    const publishTo = await openStore(opts.publish ?? `fs:${join(dataDir, 'store')}`);
    const model = resolve(opts.model ?? resolve(root, 'models/tiny-arith'));
    const fs = nodeCheckpointFs();
    if (!(await fs.exists(join(model, 'config.json')))) throw new ConfigError(`--model ${opts.model ?? model}: not a checkpoint directory (no config.json)`);
    be = await createNodeWasmBackend();
    const failed: AuditLine[] = [];
    node = await FollowerNode.start({
      store: parts.store, chain: parts.chain, validator: leader, profile, backend: be, base: await loadCheckpoint(fs, model), baseRevision: await checkpointRevision(fs, model),
      tokenizer: DEVNET_CHAR_TOKENIZER, envs: Object.fromEntries(parts.envs.map((e) => [e.name, e])), checkpointFs: fs, signer, publishTo,
      sleep: (s) => new Promise((res) => setTimeout(res, s * 1000)),
      onEvent: (e) => {
        if (e.kind === 'window') log(formatFollowerWindow(e.window));
        else if (e.kind === 'log') log(e.line);
        else if (e.kind === 'line' && !e.line.ok) {
          failed.push(e.line);
          err(`follower: window ${e.line.window} ${e.line.check} FAIL ${e.line.detail}`);
        }
      },
    });
    const n = node;
    const app = new Hono();
    app.get('/follow', (c) => {
      const r = n.result();
      return c.json({ leader: r.leader, follower: r.follower, agreement: r.agreement, auditOk: r.auditOk, windows: r.windows, failed });
    });
    app.get('/follow/window/:w', async (c) => {
      const w = Number(c.req.param('w'));
      const bytes = Number.isSafeInteger(w) ? await publishTo.get(followerVerdictKey(signer.ss58, leader, w)) : null;
      return bytes ? c.body(new TextDecoder().decode(bytes), 200, { 'Content-Type': 'application/json' }) : c.json({ detail: 'not_published' }, 404);
    });
    server = await listen(app, { port });
    opts.onListening?.(server.url);
    err(`follower ${signer.ss58} of leader ${leader} serving ${server.url}/follow (verdicts into ${(opts.publish ?? join(dataDir, 'store')).split('?')[0]})`);
    const r: FollowerResult = await n.run({ pollSeconds: poll, signal: stop.signal, ...(windows !== undefined && { windows }) });
    log(`follower: ${r.windows.length} window(s), agreement ${pct(r.agreement)} of proved groups${r.auditOk ? '' : ', audit checks failed'}`);
    if (opts.report) await writeFile(opts.report, `${JSON.stringify({ ...r, lines: undefined, failed }, null, 2)}\n`);
    return r.auditOk && r.agreement === 1 ? 0 : 1;
  } catch (e) {
    err(`reliquary validator --follow: ${e instanceof Error ? e.message : String(e)}`);
    return e instanceof ConfigError ? 2 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await server?.close();
    node?.close();
    be?.destroy();
  }
}
