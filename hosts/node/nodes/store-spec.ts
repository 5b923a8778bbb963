/**
 * `--store SPEC`: the object store of a node (or of `reliquary audit`) in one flag, as the store plugin entry of a
 * node config (config.ts):
 *
 *   fs:DIR                                            store-fs in DIR (no fsync)
 *   s3://BUCKET[/PREFIX]?endpoint=URL[&region=R]      store-s3: the bucket, objects under PREFIX/ (or `&prefix=`),
 *        [&forcePathStyle=false]                      path-style addressing unless turned off, region `auto`
 *        [&accessKeyId=…&secretAccessKey=…]           credentials; default AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
 *                                                     else the SDK's default chain
 *
 * Every mistake is a `ConfigError` with one actionable line.
 *
 * @example
 *   storeEntry('s3://reliquary/devnet?endpoint=http://127.0.0.1:9000');
 *   // { use: 'store-s3', options: { bucket: 'reliquary', keyPrefix: 'devnet/', endpoint: 'http://127.0.0.1:9000', … } }
 */
import { resolve } from 'node:path';
import { ConfigError, type NodeConfig, type PluginEntry } from './config.ts';

const S3_KEYS = ['endpoint', 'region', 'prefix', 'forcePathStyle', 'accessKeyId', 'secretAccessKey'];

/** The store plugin entry of a `--store` spec (see the file header). */
export function storeEntry(spec: string, flag = '--store'): PluginEntry {
  if (spec.startsWith('fs:')) {
    if (spec.length === 3) throw new ConfigError(`${flag} fs: names no directory (fs:DIR)`);
    return { use: 'store-fs', options: { dir: resolve(spec.slice(3)), fsync: false } };
  }
  if (!spec.startsWith('s3://')) throw new ConfigError(`${flag} ${spec}: expected fs:DIR or s3://bucket/prefix?endpoint=http://host:port`);
  let u: URL;
  try {
    u = new URL(spec);
  } catch {
    throw new ConfigError(`${flag} ${spec}: not a URL (s3://bucket/prefix?endpoint=http://host:port)`);
  }
  const q = u.searchParams;
  const unknown = [...q.keys()].filter((k) => !S3_KEYS.includes(k));
  if (unknown.length) throw new ConfigError(`${flag}: unknown s3 parameter ${unknown.join(', ')} (known: ${S3_KEYS.join(', ')})`);
  if (!u.hostname) throw new ConfigError(`${flag} ${spec}: names no bucket (s3://bucket/…)`);
  const endpoint = q.get('endpoint');
  if (endpoint !== null && !/^https?:\/\/[^/]+/.test(endpoint)) throw new ConfigError(`${flag}: endpoint ${endpoint} is not an http(s) URL`);
  const path = decodeURIComponent(u.pathname).replace(/^\/+|\/+$/g, '');
  const prefix = (q.get('prefix') ?? path).replace(/^\/+|\/+$/g, '');
  const id = q.get('accessKeyId') ?? process.env['AWS_ACCESS_KEY_ID'] ?? null;
  const secret = q.get('secretAccessKey') ?? process.env['AWS_SECRET_ACCESS_KEY'] ?? null;
  return {
    use: 'store-s3',
    options: {
      bucket: u.hostname, endpoint, region: q.get('region') ?? 'auto', keyPrefix: prefix ? `${prefix}/` : '',
      forcePathStyle: q.get('forcePathStyle') !== 'false', accessKeyId: id, secretAccessKey: secret,
    },
  };
}

/** `config` with the store of `--store` (a config that lists a store plugin already is a mistake). */
export function withStore(config: NodeConfig, spec: string | undefined): NodeConfig {
  if (spec === undefined) return config;
  const listed = config.plugins.find((p) => p.use.startsWith('store-'));
  if (listed) throw new ConfigError(`--store ${spec}: the config already lists a store (${listed.use}); use one or the other`);
  return { ...config, plugins: [storeEntry(spec), ...config.plugins] };
}
