/** The wasm backend (AssemblyScript SIMD) against ref, op by op. Needs kernels/wasm/build (node kernels/wasm/build.mjs). */
import { createNodeWasmBackend } from '../../kernels/wasm/node.ts';
import { opSuite } from './suite.ts';
import { WASM_TOLERANCES } from './wasm-tolerances.ts';

opSuite('wasm', createNodeWasmBackend, WASM_TOLERANCES);
