/**
 * WebGPU device acquisition, runtime-agnostic: the caller passes a `GPU` (navigator.gpu in a browser or Deno, the
 * `webgpu` package's `create()` on Node — see node-device.ts). Optional features (`shader-f16`, `subgroups`) are
 * requested only when the adapter has them, and the storage limits are raised to the adapter's so large weights fit.
 */

/** The message when no adapter exists (a machine without a GPU and without a software Vulkan driver). */
export const NO_ADAPTER_MESSAGE =
  'no WebGPU adapter: install Mesa lavapipe from bookworm-backports, see README';

export interface GpuDeviceInfo {
  readonly device: GPUDevice;
  /** Optional features this device was created with. */
  readonly features: { readonly shaderF16: boolean; readonly subgroups: boolean };
  /** Adapter description (vendor / architecture / device), for reports. */
  readonly adapter: string;
  /**
   * A software adapter running on the CPU (lavapipe/llvmpipe, SwiftShader): workgroup starts and barriers cost µs
   * there and a few threads do all the work, so some kernels pick a different layout (rmsnorm.ts, attention.ts).
   */
  readonly cpu: boolean;
}

/** Requests an adapter and a device from `gpu`; throws NO_ADAPTER_MESSAGE when there is none. */
export async function requestGpuDevice(gpu: GPU | undefined, options: GPURequestAdapterOptions = {}): Promise<GpuDeviceInfo> {
  if (!gpu) throw new Error(`${NO_ADAPTER_MESSAGE} (WebGPU is not available in this runtime)`);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance', ...options });
  if (!adapter) throw new Error(NO_ADAPTER_MESSAGE);
  const optional: GPUFeatureName[] = (['shader-f16', 'subgroups'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({
    requiredFeatures: optional,
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  const info = adapter.info;
  const description = [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(' / ') || 'unknown';
  return {
    device,
    features: { shaderF16: device.features.has('shader-f16'), subgroups: device.features.has('subgroups') },
    adapter: description,
    cpu: /llvmpipe|lavapipe|swiftshader|software/i.test(description),
  };
}
