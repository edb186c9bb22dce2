/**
 * Compute pipelines, compiled once per kernel and specialisation. Compilation runs inside a
 * validation error scope; a failure is reported as a `BackendError` (with `getCompilationInfo`'s
 * messages) by the next `read`/`sync`, and the kernel then refuses to dispatch.
 */
import type { DeviceErrors } from './errors.js';
import type { KernelSource } from './kernels/prelude.js';

/** GPUShaderStage.COMPUTE (the global is absent in Node). */
const COMPUTE = 4;

export interface Pipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

export class PipelineCache {
  private readonly device: GPUDevice;
  private readonly errors: DeviceErrors;
  private readonly pipelines = new Map<string, Pipeline>();

  constructor(device: GPUDevice, errors: DeviceErrors) {
    this.device = device;
    this.errors = errors;
  }

  get(key: string, source: () => KernelSource): Pipeline {
    let cached = this.pipelines.get(key);
    if (cached) return cached;
    const kernel = source();
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code: kernel.code, label: key });
    const layout = this.device.createBindGroupLayout({
      entries: [
        { binding: 0, visibility: COMPUTE, buffer: { type: 'uniform' } },
        ...kernel.storage.map((access, i) => ({
          binding: i + 1,
          visibility: COMPUTE,
          buffer: { type: access === 'rw' ? ('storage' as const) : ('read-only-storage' as const) },
        })),
      ],
    });
    const pipeline = this.device.createComputePipeline({
      label: key,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    this.errors.wait(
      this.device.popErrorScope().then(
        async (error) => {
          if (!error) return;
          let detail = error.message;
          try {
            const info = await module.getCompilationInfo();
            const messages = info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
            if (messages.length) detail += ` (${messages.join('; ')})`;
          } catch {
            // compilation info is optional
          }
          this.errors.kernelFailed(key, this.errors.backendError(`kernel '${key}' failed to compile or link: ${detail}`));
        },
        () => {},
      ),
    );
    cached = { pipeline, layout };
    this.pipelines.set(key, cached);
    return cached;
  }
}
