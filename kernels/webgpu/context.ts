/**
 * The WebGPU execution context shared by every op's dispatch code: a pipeline cache keyed by shader key, a ring of
 * uniform slots, one command encoder that records dispatches and copies until the next flush, deferred buffer
 * destruction, and error scopes that turn validation/out-of-memory errors into thrown Errors at the next flush.
 *
 * An op's dispatch (`kernels/webgpu/<op>.ts`) calls `run(program, buffers, uniforms, workgroups)`: buffers bind to
 * @binding(0 … n−1) in order (the first is the output, read_write), the uniform words to @binding(n).
 */

/** A compute program: its WGSL (built once per key) and the key it is cached under. */
export interface Program {
  readonly key: string;
  readonly code: () => string;
}

/** Largest workgroup count along one dimension (WebGPU's default limit). */
const MAX_GROUPS_PER_DIM = 65535;
/** Bytes per uniform slot (minUniformBufferOffsetAlignment is at most 256). */
const UNIFORM_SLOT = 256;
const UNIFORM_SLOTS = 512;

/** A 2D grid of workgroups covering `n` of them (x ≤ 65535); shaders flatten it as wid.y·nwg.x + wid.x. */
export function grid(n: number): [number, number] {
  if (n <= MAX_GROUPS_PER_DIM) return [Math.max(1, n), 1];
  const y = Math.ceil(n / MAX_GROUPS_PER_DIM);
  if (y > MAX_GROUPS_PER_DIM) throw new Error(`webgpu: ${n} workgroups exceed the dispatch limit`);
  return [Math.ceil(n / y), y];
}

/** The bits of an f32, for a uniform word the shader reads with bitcast<f32>. */
export function f32Bits(x: number): number {
  const f = new Float32Array([x]);
  return new Uint32Array(f.buffer)[0]!;
}

export class GpuContext {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly uniformBuffer: GPUBuffer;
  private readonly uniformStaging = new Uint32Array((UNIFORM_SLOTS * UNIFORM_SLOT) / 4);
  private uniformSlot = 0;
  private encoder: GPUCommandEncoder | null = null;
  private readonly toDestroy: GPUBuffer[] = [];
  private readonly scratches = new Map<string, GPUBuffer>();
  private readonly errors: Promise<GPUError | null>[] = [];
  private lostMessage: string | null = null;

  /** `cpu`: the adapter runs on the CPU (GpuDeviceInfo.cpu); kernels with a layout per kind of adapter read it. */
  constructor(readonly device: GPUDevice, readonly cpu = false) {
    this.uniformBuffer = device.createBuffer({
      label: 'uniform ring',
      size: UNIFORM_SLOTS * UNIFORM_SLOT,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    void device.lost.then((info) => {
      if (info.reason !== 'destroyed') this.lostMessage = `webgpu: device lost: ${info.message}`;
    });
  }

  /** A storage buffer of at least `bytes` (rounded up to 4), zero-filled, optionally initialised from `data`. */
  createBuffer(bytes: number, label: string, data?: ArrayBufferView): GPUBuffer {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const limit = this.device.limits.maxStorageBufferBindingSize;
    if (size > limit) {
      throw new Error(`webgpu: ${label} needs ${size} bytes, over the adapter's maxStorageBufferBindingSize of ${limit}`);
    }
    const buf = this.device.createBuffer({
      label,
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      mappedAtCreation: data !== undefined,
    });
    if (data) {
      new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      buf.unmap();
    }
    return buf;
  }

  /**
   * A storage buffer of at least `bytes` kept under `name` and handed out again to later calls (grown when too
   * small), for a kernel's intermediate results: creating a buffer per call costs its allocation and Dawn's lazy zero
   * fill on first use (about 30 ms of a 4 MB attention scratch on lavapipe). Its contents are whatever the previous
   * user left; dispatches on the one queue run in order, so successive users do not overlap.
   */
  scratch(name: string, bytes: number): GPUBuffer {
    let buf = this.scratches.get(name);
    if (!buf || buf.size < bytes) {
      if (buf) this.release(buf);
      buf = this.createBuffer(bytes, `scratch ${name}`);
      this.scratches.set(name, buf);
    }
    return buf;
  }

  /** Destroys a buffer once the work recorded so far has been submitted. */
  release(buf: GPUBuffer): void {
    if (this.encoder) this.toDestroy.push(buf);
    else buf.destroy();
  }

  private pipeline(p: Program): GPUComputePipeline {
    let pipe = this.pipelines.get(p.key);
    if (!pipe) {
      const module = this.device.createShaderModule({ label: p.key, code: p.code() });
      pipe = this.device.createComputePipeline({ label: p.key, layout: 'auto', compute: { module, entryPoint: 'main' } });
      this.pipelines.set(p.key, pipe);
    }
    return pipe;
  }

  private currentEncoder(): GPUCommandEncoder {
    if (!this.encoder) {
      if (this.lostMessage) throw new Error(this.lostMessage);
      this.device.pushErrorScope('out-of-memory');
      this.device.pushErrorScope('validation');
      this.encoder = this.device.createCommandEncoder();
    }
    return this.encoder;
  }

  /** Records one dispatch of `p` over `workgroups`, binding `buffers` then the uniform words. */
  run(p: Program, buffers: readonly GPUBuffer[], uniforms: readonly number[], workgroups: readonly [number, number?, number?]): void {
    if (uniforms.length * 4 > UNIFORM_SLOT) throw new Error(`webgpu: ${p.key} has too many uniform words`);
    if (this.uniformSlot === UNIFORM_SLOTS) this.flush();
    const enc = this.currentEncoder(); // first: opens the error scopes that catch a shader's compile errors
    const pipe = this.pipeline(p);
    const slot = this.uniformSlot++;
    this.uniformStaging.set(uniforms, (slot * UNIFORM_SLOT) / 4);
    const entries: GPUBindGroupEntry[] = buffers.map((buffer, binding) => ({ binding, resource: { buffer } }));
    entries.push({
      binding: buffers.length,
      resource: { buffer: this.uniformBuffer, offset: slot * UNIFORM_SLOT, size: Math.max(16, Math.ceil(uniforms.length / 4) * 16) },
    });
    const bindGroup = this.device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries });
    const pass = enc.beginComputePass({ label: p.key });
    pass.setPipeline(pipe);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
    pass.end();
  }

  /** Records a buffer-to-buffer copy (offsets and size multiples of 4). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.currentEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Submits everything recorded so far (uniforms first) and releases deferred buffers. */
  flush(): void {
    if (!this.encoder) return;
    if (this.uniformSlot > 0) {
      this.device.queue.writeBuffer(this.uniformBuffer, 0, this.uniformStaging, 0, (this.uniformSlot * UNIFORM_SLOT) / 4);
    }
    this.device.queue.submit([this.encoder.finish()]);
    this.errors.push(this.device.popErrorScope(), this.device.popErrorScope());
    this.encoder = null;
    this.uniformSlot = 0;
    for (const b of this.toDestroy.splice(0)) b.destroy();
  }

  /** Flushes, waits for the queue and throws the first GPU error recorded since the last check. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await this.throwErrors();
  }

  private async throwErrors(): Promise<void> {
    const found = (await Promise.all(this.errors.splice(0))).find((e) => e !== null);
    if (found) throw new Error(`webgpu: ${found.message}`);
    if (this.lostMessage) throw new Error(this.lostMessage);
  }

  /** Copies `bytes` of `buf` back to the host after all recorded work. */
  async read(buf: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const staging = this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.copy(buf, 0, staging, 0, size);
    this.flush();
    try {
      try {
        await staging.mapAsync(GPUMapMode.READ);
      } catch (e) {
        await this.throwErrors(); // a recorded validation error explains a failed map better
        throw e;
      }
      await this.throwErrors();
      return staging.getMappedRange().slice(0, bytes);
    } finally {
      staging.destroy();
    }
  }

  destroy(): void {
    this.encoder = null;
    this.uniformBuffer.destroy();
    this.device.destroy();
  }
}
