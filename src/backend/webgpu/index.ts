// Making a WebGPU backend: from the browser's navigator.gpu, or in Node from the `webgpu` package (Dawn),
// which the user installs where there is a GPU (npm install webgpu): it is not a dependency, since on a
// machine without a GPU Dawn finds no adapter (Debian 12 with Mesa's lavapipe: it refuses the device).

export { WebGpuBackend } from './webgpu-backend.ts';
import { WebGpuBackend } from './webgpu-backend.ts';

export interface WebGpuBackendOptions {
  /** A device to use (its owner keeps the adapter); default: one requested here. */
  device?: GPUDevice;
  powerPreference?: GPUPowerPreference;
}

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/** navigator.gpu, or Node's through the `webgpu` package; a message that says what to do when there is none. */
async function gpuApi(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (!isNode()) {
    throw new Error('This browser has no WebGPU (navigator.gpu is missing; it needs a secure context: https or 127.0.0.1); use the wasm backend');
  }
  const spec = 'webgpu'; // a variable: bundlers must not try to resolve Dawn's native package for a page
  let mod: { create?: (flags: string[]) => GPU; globals?: object };
  try {
    mod = (await import(spec)) as typeof mod;
  } catch {
    throw new Error('WebGPU in Node needs the `webgpu` package (Dawn): npm install webgpu, on a machine with a GPU and its Vulkan, Metal or D3D12 driver; or use the wasm backend');
  }
  if (mod.globals) Object.assign(globalThis, mod.globals);
  if (!mod.create) throw new Error('the `webgpu` package has no create(); install webgpu ≥ 0.2');
  return mod.create([]);
}

export async function createWebGpuBackend(o: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
  if (o.device) return new WebGpuBackend(o.device, 'given device');
  const gpu = await gpuApi();
  const adapter = await gpu.requestAdapter({ powerPreference: o.powerPreference });
  if (!adapter) {
    throw new Error('WebGPU found no adapter (no GPU, or its driver is not usable: in Node, Dawn needs Vulkan, Metal or D3D12; in chromium without a GPU, start it with --enable-unsafe-webgpu --use-webgpu-adapter=swiftshader); use the wasm backend');
  }
  const info = adapter.info;
  const device = await adapter.requestDevice();
  return new WebGpuBackend(device, [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || 'unknown adapter');
}
