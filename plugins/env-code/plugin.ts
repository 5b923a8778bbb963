/**
 * The `env-code` plugin definition for the registry (`core/plugins`). The dataset (`source` or `rows`) and the
 * sandbox (`runner`) are options: on Node, `fileReader(sampleCodeDatasetPath())` and `pyodideSandbox()` from
 * hosts/node/sandbox.
 *
 * @example
 *   createRegistry().use(envCodePlugin, { source: fileReader(sampleCodeDatasetPath()), runner: sandbox }).get('environment');
 */
import { definePlugin } from '../../core/plugins/index.ts';
import { ENV_CODE_DEFAULTS, envCode, type EnvCodeOptions } from './environment.ts';

/** `environment`: Python problems graded by running their tests in the injected sandbox (reward passed/T). */
export const envCodePlugin = definePlugin({
  name: 'env-code',
  kind: 'environment',
  defaults: ENV_CODE_DEFAULTS as EnvCodeOptions,
  create: function createEnvCode(_deps, options: EnvCodeOptions) {
    return envCode(options);
  },
});
