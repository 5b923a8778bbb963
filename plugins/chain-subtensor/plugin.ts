/** The `chain-subtensor` plugin definition for the registry (`core/plugins`). */
import { definePlugin } from '../../core/plugins/index.ts';
import { CHAIN_SUBTENSOR_DEFAULTS, chainSubtensor } from './chain-subtensor.ts';

/** `chain`: a subtensor node (options `endpoint`, `netuid`, `hotkey`, …). */
export const chainSubtensorPlugin = definePlugin({
  name: 'chain-subtensor',
  kind: 'chain',
  defaults: CHAIN_SUBTENSOR_DEFAULTS,
  create: function createChainSubtensor(_deps, options) {
    return chainSubtensor(options);
  },
});
