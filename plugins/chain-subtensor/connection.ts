/**
 * The connection to a subtensor node: a `WsProvider` that reconnects by itself after a drop (every
 * `reconnectMs`), an `ApiPromise` over it, and a bounded wait: a node that does not answer within
 * `connectTimeoutMs` is a `SubtensorError('unreachable')` naming the endpoint and the attempts made, and the next
 * call tries again from scratch (so a node that comes back is picked up). The runtime must have the
 * SubtensorModule pallet, or the error says the endpoint is not a subtensor node.
 */
import { ApiPromise, WsProvider } from '@polkadot/api';
import { SUBTENSOR_ERROR_REASONS, SubtensorError } from './errors.ts';

export interface ConnectOptions {
  endpoint: string;
  connectTimeoutMs: number;
  reconnectMs: number;
  requestTimeoutMs: number;
}

/** Connects (bounded by `connectTimeoutMs`) and checks the runtime; the caller owns `api.disconnect()`. */
export async function connectSubtensor(o: ConnectOptions): Promise<ApiPromise> {
  const provider = new WsProvider(o.endpoint, o.reconnectMs, {}, o.requestTimeoutMs);
  let failures = 0;
  let lastError = '';
  const offError = provider.on('error', (e: unknown) => {
    failures++;
    lastError = e instanceof Error ? e.message : typeof e === 'object' && e !== null && 'message' in e ? String((e as { message: unknown }).message) : String(e);
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const tries = failures > 0 ? `${failures} failed attempt${failures > 1 ? 's' : ''}${lastError ? ` (last: ${lastError})` : ''}` : 'no answer';
      reject(new SubtensorError('unreachable', `chain-subtensor: ${o.endpoint}: ${SUBTENSOR_ERROR_REASONS.unreachable} [${tries} in ${o.connectTimeoutMs} ms]`));
    }, o.connectTimeoutMs);
  });
  try {
    await Promise.race([provider.isReady, timeout]);
    const api = await Promise.race([ApiPromise.create({ provider, noInitWarn: true }), timeout]);
    if (!api.query['subtensorModule'] || !api.tx['subtensorModule']) {
      await api.disconnect();
      throw new SubtensorError('not_subtensor', `chain-subtensor: ${o.endpoint} (${api.runtimeVersion.specName.toString()} v${api.runtimeVersion.specVersion.toNumber()}): ${SUBTENSOR_ERROR_REASONS.not_subtensor}`);
    }
    return api;
  } catch (e) {
    await provider.disconnect().catch(() => {});
    throw e;
  } finally {
    clearTimeout(timer);
    offError();
  }
}
