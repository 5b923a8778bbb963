/**
 * `sendAndWatch(api, tx, pair, context, timeoutMs)`: signs and sends one extrinsic and resolves with the hash of the
 * block that includes it, or throws a `SubtensorError`: the pool's refusal (`1010 … Custom error: N`), the
 * pallet's dispatch error (decoded from the runtime metadata: `SubtensorModule.SettingWeightsTooFast`), a dropped
 * or invalid transaction, or no inclusion within `timeoutMs`. The nonce is the chain's next index for the account
 * (pending pool transactions included), so back-to-back calls do not collide.
 */
import type { ApiPromise, Keyring } from '@polkadot/api';
import type { SubmittableExtrinsic } from '@polkadot/api/types';
import { explainDispatchError, SUBTENSOR_ERROR_REASONS, SubtensorError } from './errors.ts';

type KeyringPair = ReturnType<Keyring['addFromUri']>;

/** Signs, sends and watches `tx`; resolves with the including block's hash. */
export async function sendAndWatch(api: ApiPromise, tx: SubmittableExtrinsic<'promise'>, pair: KeyringPair, context: string, timeoutMs: number): Promise<string> {
  const nonce = await api.rpc.system.accountNextIndex(pair.address);
  return new Promise<string>((resolve, reject) => {
    let unsub: (() => void) | undefined;
    let settled = false;
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      unsub?.();
      f();
    };
    const timer = setTimeout(() => finish(() => reject(new SubtensorError('timeout', `${context}: ${SUBTENSOR_ERROR_REASONS.timeout} [not in a block after ${timeoutMs} ms]`))), timeoutMs);
    tx.signAndSend(pair, { nonce }, (result) => {
      const { status, dispatchError } = result;
      if (dispatchError) {
        let name = dispatchError.toString();
        if (dispatchError.isModule) {
          const meta = api.registry.findMetaError(dispatchError.asModule);
          name = `${meta.section}.${meta.name}`;
        }
        return finish(() => reject(explainDispatchError(name, context)));
      }
      if (status.isInBlock || status.isFinalized) {
        const hash = (status.isInBlock ? status.asInBlock : status.asFinalized).toHex();
        return finish(() => resolve(hash));
      }
      if (status.isInvalid || status.isDropped || status.isUsurped) {
        return finish(() => reject(new SubtensorError('rejected', `${context}: ${SUBTENSOR_ERROR_REASONS.rejected} [transaction ${status.type}]`)));
      }
    })
      .then((u) => {
        unsub = u;
        if (settled) u();
      })
      .catch((e: unknown) => finish(() => reject(explainDispatchError(e instanceof Error ? e.message : String(e), context))));
  });
}
