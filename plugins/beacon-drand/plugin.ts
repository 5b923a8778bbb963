/**
 * The `beacon-drand` plugin definition for the registry (`core/plugins`): drand quicknet over HTTP relays, every
 * round BLS-verified before it is returned (a tampered beacon is a `BeaconError` with reason `invalid`, naming the
 * relay). A validator config selects it in place of `beacon-local`:
 *
 * @example
 *   { "plugins": [{ "use": "beacon-drand", "options": { "relays": ["http://127.0.0.1:8081"] } }] }
 */
import { definePlugin } from '../../core/plugins/index.ts';
import { DRAND_QUICKNET_DEFAULTS, drandQuicknet } from './drand-quicknet.ts';

/** `beacon`: drand quicknet (defaults: the public relays, 5 s per request, 3 attempts, relay `/info` checked). */
export const beaconDrandPlugin = definePlugin({
  name: 'beacon-drand',
  kind: 'beacon',
  defaults: DRAND_QUICKNET_DEFAULTS,
  create: function createBeaconDrand(_deps, options) {
    return drandQuicknet(options);
  },
});
