// The WebGPU backend's commands as data: kernel launches, copies and clears are recorded in order, then
// encoded into one command buffer per submission, their parameter blocks packed into one buffer (one
// upload, no buffer per launch). A captured training step keeps its list, its parameters and its bind
// groups, and replays as one submission with no JavaScript per op (the GPU analogue of the wasm
// backend's captured step).

export interface Dispatch {
  kind: 'dispatch';
  label: string;
  pipeline: GPUComputePipeline;
  grid: [number, number, number];
  /** The parameter block (binding 0). */
  words: Uint32Array<ArrayBuffer>;
  /** Bindings 1, 2, …: the reads, then the writes. */
  buffers: GPUBuffer[];
  /** Binding 9: the error word, for kernels that check ids. */
  errors: GPUBuffer | null;
}

export interface Copy {
  kind: 'copy';
  src: GPUBuffer;
  srcOffset: number;
  dst: GPUBuffer;
  dstOffset: number;
  size: number;
}

export interface Clear {
  kind: 'clear';
  buffer: GPUBuffer;
}

export type Command = Dispatch | Copy | Clear;

/** A list's parameters uploaded and its bind groups made, ready to encode (again and again). */
export interface Prepared {
  params: GPUBuffer;
  groups: (GPUBindGroup | null)[];
}

/**
 * Packs every launch's parameters into `params` (grown when too small: a new buffer is returned) at
 * the device's storage-offset alignment, uploads them, and makes each launch's bind group. The upload
 * is queued, so it lands after the submissions already made and before the next.
 */
export function prepare(device: GPUDevice, cmds: readonly Command[], params: GPUBuffer | null): Prepared {
  const align = device.limits.minStorageBufferOffsetAlignment;
  const offsets: number[] = [];
  let size = 0;
  for (const c of cmds) {
    offsets.push(size);
    if (c.kind === 'dispatch') size += Math.ceil(Math.max(4, c.words.byteLength) / align) * align;
  }
  size = Math.max(size, align);
  if (!params || params.size < size) {
    params?.destroy(); // the submissions that read it keep it until they finish
    params = device.createBuffer({ label: 'kernel parameters', size: Math.max(size, 2 * (params?.size ?? 0)), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  }
  const all = new Uint32Array(size / 4);
  cmds.forEach((c, i) => {
    if (c.kind === 'dispatch') all.set(c.words, offsets[i] / 4);
  });
  device.queue.writeBuffer(params, 0, all);
  const p = params;
  const groups = cmds.map((c, i) => {
    if (c.kind !== 'dispatch') return null;
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: p, offset: offsets[i], size: Math.max(4, c.words.byteLength) } },
      ...c.buffers.map((buffer, j) => ({ binding: j + 1, resource: { buffer } }))];
    if (c.errors) entries.push({ binding: 9, resource: { buffer: c.errors } });
    return device.createBindGroup({ label: c.label, layout: c.pipeline.getBindGroupLayout(0), entries });
  });
  return { params: p, groups };
}

/** One command buffer for the list: consecutive launches share a compute pass (each launch is its own synchronisation scope). */
export function encode(device: GPUDevice, cmds: readonly Command[], prepared: Prepared): GPUCommandBuffer {
  const enc = device.createCommandEncoder();
  let pass: GPUComputePassEncoder | null = null;
  cmds.forEach((c, i) => {
    if (c.kind === 'dispatch') {
      pass ??= enc.beginComputePass();
      pass.setPipeline(c.pipeline);
      pass.setBindGroup(0, prepared.groups[i]!);
      pass.dispatchWorkgroups(...c.grid);
      return;
    }
    pass?.end();
    pass = null;
    if (c.kind === 'copy') enc.copyBufferToBuffer(c.src, c.srcOffset, c.dst, c.dstOffset, c.size);
    else enc.clearBuffer(c.buffer);
  });
  (pass as GPUComputePassEncoder | null)?.end();
  return enc.finish();
}
