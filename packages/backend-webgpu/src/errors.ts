/**
 * The device's failures, collected as they happen and thrown at the next `read`/`sync`:
 * error scopes around buffer and pipeline creation, `uncapturederror` events and device loss
 * all become a `WebGpuError` naming the adapter. Device loss is thrown by every later
 * `read`/`sync`, a kernel whose pipeline failed to compile throws at its next use.
 */
import { WebGpuError } from './device.js';

export class DeviceErrors {
  readonly adapterName: string;
  private scopes: Promise<void>[] = [];
  private error: WebGpuError | null = null;
  /** Kernels whose pipeline failed to compile, with the error (reported before any other). */
  private readonly broken = new Map<string, WebGpuError>();
  private compileError: WebGpuError | null = null;
  private lost: WebGpuError | null = null;
  private readonly lostPromise: Promise<WebGpuError>;
  private destroyed = false;

  constructor(device: GPUDevice, adapterName: string) {
    this.adapterName = adapterName;
    const onError = (event: Event) => {
      const error = (event as GPUUncapturedErrorEvent).error;
      const message = error?.message ?? String(error);
      // Uses of a pipeline that failed to compile repeat that failure; it is reported once, by its scope.
      if (this.broken.size > 0 && /due to a previous error/.test(message)) return;
      this.fail(`${error?.constructor?.name ?? 'GPUError'}: ${message}`);
    };
    const target = device as GPUDevice & { addEventListener?: GPUDevice['addEventListener'] };
    if (typeof target.addEventListener === 'function') target.addEventListener('uncapturederror', onError);
    else (target as { onuncapturederror: unknown }).onuncapturederror = onError;
    this.lostPromise = device.lost.then((info) => {
      const error = new WebGpuError(this.adapterName, `device lost (${info.reason ?? 'unknown'}): ${info.message}`);
      if (!this.destroyed) this.lost = error;
      return error;
    });
  }

  /** Records `message` unless an earlier error is still unreported. */
  fail(message: string): void {
    if (!this.error) this.error = new WebGpuError(this.adapterName, message);
  }

  /** Records the error an error scope pops with, described by `what`. */
  track(scope: Promise<GPUError | null>, what: () => string): void {
    this.wait(
      scope.then(
        (error) => {
          if (error) this.fail(`${what()}: ${error.message}`);
        },
        () => {},
      ),
    );
  }

  /** Makes the next `settle` wait for `pending` (which records its own outcome). */
  wait(pending: Promise<void>): void {
    this.scopes.push(pending);
  }

  kernelFailed(key: string, error: WebGpuError): void {
    this.broken.set(key, error);
    this.compileError ??= error;
  }

  /** The compile failure of kernel `key`, if its pipeline failed. */
  kernelFailure(key: string): WebGpuError | undefined {
    return this.broken.get(key);
  }

  /** Loss after `destroy()` is expected and not an error. */
  deviceDestroyed(): void {
    this.destroyed = true;
  }

  /** Waits for the error scopes opened so far and throws the first recorded error. */
  async settle(): Promise<void> {
    const scopes = this.scopes;
    this.scopes = [];
    await Promise.all(scopes);
    if (this.lost) throw this.lost;
    if (this.compileError) {
      const error = this.compileError;
      this.compileError = null;
      this.error = null;
      throw error;
    }
    if (this.error) {
      const error = this.error;
      this.error = null;
      throw error;
    }
  }

  /** `promise`, unless the device is lost first (then the loss is thrown): never hangs. */
  async orLost<T>(promise: Promise<T>): Promise<T> {
    const outcome = await Promise.race([
      promise.then(
        (value) => ({ value }),
        (failure: unknown) => ({ failure }),
      ),
      this.lostPromise,
    ]);
    if (outcome instanceof WebGpuError) throw outcome;
    if ('failure' in outcome) {
      await this.settle();
      throw new WebGpuError(this.adapterName, `${(outcome.failure as Error)?.message ?? String(outcome.failure)}`);
    }
    return outcome.value;
  }
}
