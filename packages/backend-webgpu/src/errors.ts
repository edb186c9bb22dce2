/**
 * The device's failures, collected as they happen and thrown at the next `read`/`sync` as
 * core's typed errors, each naming the adapter and quoting the device's own message:
 * - device loss → `DeviceLostError`, thrown by every later `read`/`sync` (a read pending at the
 *   moment of loss rejects with it too); loss caused by `backend.destroy()` is a shutdown and
 *   becomes `BackendDestroyedError` instead;
 * - out-of-memory (the allocation error scope, a `GPUOutOfMemoryError` event) → `OutOfMemoryError`
 *   with the byte size where known;
 * - validation and internal errors, kernels that failed to compile → `BackendError`.
 * When several are recorded before one `settle`, the most fundamental one is thrown (loss, then
 * out-of-memory, then compile failure, then the first other error, then errors that only repeat
 * an earlier one): the others usually follow from it, and the caller needs the cause.
 */
import { BackendDestroyedError, BackendError, DeviceLostError, describeBytes, OutOfMemoryError } from '@recur/core/backend';

export class DeviceErrors {
  readonly adapterName: string;
  private scopes: Promise<void>[] = [];
  private error: BackendError | null = null;
  /** An error that only repeats an earlier one ("… due to a previous error"). */
  private consequence: BackendError | null = null;
  private outOfMemory: OutOfMemoryError | null = null;
  /** Kernels whose pipeline failed to compile, with the error. */
  private readonly broken = new Map<string, BackendError>();
  private compileError: BackendError | null = null;
  private lost: DeviceLostError | BackendDestroyedError | null = null;
  /**
   * Calls waiting for the device to be lost (see `orLost`). A set rather than a race against one
   * long-lived promise: every race adds a reaction to the promise it is given, and a promise
   * that never settles (a healthy device) would keep one per `read`/`sync` for ever.
   */
  private readonly lossWaiters = new Set<(lost: DeviceLostError | BackendDestroyedError) => void>();
  private destroyed = false;

  constructor(device: GPUDevice, adapterName: string) {
    this.adapterName = adapterName;
    const onError = (event: Event) => {
      const error = (event as GPUUncapturedErrorEvent).error;
      const message = error?.message ?? String(error);
      const kind = error?.constructor?.name ?? 'GPUError';
      if (kind === 'GPUOutOfMemoryError') this.recordOutOfMemory(`${kind}: ${message}`, undefined);
      // "X is invalid due to a previous error" follows a failure normally reported on its own
      // (an allocation or pipeline error scope, an earlier event): it is kept only in case
      // nothing else is, so it cannot mask the cause (e.g. a bind group of a buffer that could
      // not be allocated), yet an invalid object used later still fails loudly.
      else if (/due to a previous error/.test(message)) this.consequence ??= this.backendError(`${kind}: ${message}`);
      else this.fail(`${kind}: ${message}`);
    };
    const target = device as GPUDevice & { addEventListener?: GPUDevice['addEventListener'] };
    if (typeof target.addEventListener === 'function') target.addEventListener('uncapturederror', onError);
    else (target as { onuncapturederror: unknown }).onuncapturederror = onError;
    void device.lost.then((info) => {
      const lost = this.destroyed
        ? new BackendDestroyedError(this.text('used after destroy() (the device was destroyed with the backend)'))
        : new DeviceLostError(this.text(`device lost (${info.reason ?? 'unknown'}): ${info.message || 'no message from the device'}`));
      this.lost = lost;
      for (const wake of this.lossWaiters) wake(lost);
      this.lossWaiters.clear();
    });
  }

  /** A promise of the loss, resolved when the device is lost; `cancel` stops waiting. */
  private nextLoss(): { loss: Promise<DeviceLostError | BackendDestroyedError>; cancel: () => void } {
    let wake: (lost: DeviceLostError | BackendDestroyedError) => void = () => {};
    const loss = new Promise<DeviceLostError | BackendDestroyedError>((resolve) => {
      wake = resolve;
    });
    if (this.lost) wake(this.lost);
    else this.lossWaiters.add(wake);
    return { loss, cancel: () => this.lossWaiters.delete(wake) };
  }

  /** `WebGPU (adapter): message`, the form of every message of this backend's device errors. */
  text(message: string): string {
    return `WebGPU (${this.adapterName}): ${message}`;
  }

  /** A `BackendError` naming the adapter. */
  backendError(message: string, cause?: unknown): BackendError {
    return new BackendError(this.text(message), cause === undefined ? undefined : { cause });
  }

  /** An `OutOfMemoryError` for an allocation of `bytes` (or of unknown size), naming the adapter. */
  outOfMemoryError(message: string, bytes: number | undefined, cause?: unknown): OutOfMemoryError {
    const size = bytes === undefined ? '' : ` allocating ${describeBytes(bytes)}`;
    return new OutOfMemoryError(this.text(`out of memory${size}: ${message}`), bytes, cause === undefined ? undefined : { cause });
  }

  /** Records a validation or internal error unless an earlier one is still unreported. */
  fail(message: string): void {
    this.error ??= this.backendError(message);
  }

  /** Records an out-of-memory error unless an earlier one is still unreported. */
  recordOutOfMemory(message: string, bytes: number | undefined): void {
    this.outOfMemory ??= this.outOfMemoryError(message, bytes);
  }

  /**
   * Records the error of an `out-of-memory` scope around the creation of a `bytes`-byte buffer;
   * `onFailure` runs first when the allocation failed.
   */
  trackAllocation(scope: Promise<GPUError | null>, bytes: number, onFailure: () => void): void {
    this.wait(
      scope.then(
        (error) => {
          if (!error) return;
          onFailure();
          this.recordOutOfMemory(`createBuffer failed: ${error.message}`, bytes);
        },
        // popErrorScope rejects only when no scope is open: a bug here, but not the caller's error.
        (failure: unknown) => this.fail(`popErrorScope failed: ${(failure as Error)?.message ?? String(failure)}`),
      ),
    );
  }

  /** Makes the next `settle` wait for `pending` (which records its own outcome). */
  wait(pending: Promise<void>): void {
    this.scopes.push(pending);
  }

  kernelFailed(key: string, error: BackendError): void {
    this.broken.set(key, error);
    this.compileError ??= error;
  }

  /** The compile failure of kernel `key`, if its pipeline failed. */
  kernelFailure(key: string): BackendError | undefined {
    return this.broken.get(key);
  }

  /** The backend destroys its device: the loss that follows is a shutdown, not a failure. */
  deviceDestroyed(): void {
    this.destroyed = true;
  }

  /** Waits for the error scopes opened so far and throws the most fundamental recorded error. */
  async settle(): Promise<void> {
    const scopes = this.scopes;
    this.scopes = [];
    await Promise.all(scopes);
    if (this.lost) throw this.lost;
    const error = this.outOfMemory ?? this.compileError ?? this.error ?? this.consequence;
    // Each failure is reported once; what followed from it goes with it.
    this.outOfMemory = null;
    this.compileError = null;
    this.error = null;
    this.consequence = null;
    if (error) throw error;
  }

  /** `promise`, unless the device is lost first (then the loss is thrown): never hangs. */
  async orLost<T>(promise: Promise<T>): Promise<T> {
    const { loss, cancel } = this.nextLoss();
    let outcome: { value: T } | { failure: unknown } | { lost: DeviceLostError | BackendDestroyedError };
    try {
      outcome = await Promise.race([
        promise.then(
          (value) => ({ value }),
          (failure: unknown) => ({ failure }),
        ),
        loss.then((lost) => ({ lost })),
      ]);
    } finally {
      cancel();
    }
    if ('lost' in outcome) throw outcome.lost;
    if ('failure' in outcome) {
      // A lost device rejects pending maps (AbortError) around the time `device.lost` resolves;
      // let a loss that is on its way arrive first, so it is reported as the loss it is.
      const next = this.nextLoss();
      const lost = await Promise.race([next.loss, new Promise<null>((resolve) => setTimeout(() => resolve(null), 0))]);
      next.cancel();
      if (lost) throw lost;
      await this.settle();
      const failure = outcome.failure as Error;
      throw this.backendError(`read-back failed: ${failure?.name ?? 'Error'}: ${failure?.message || String(failure)}`, failure);
    }
    return outcome.value;
  }
}
