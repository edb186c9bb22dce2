import { type BackendBuffer, type DType, describeBytes, type FloatArray, OutOfMemoryError } from '@recur/core/backend';

/** Makes a zero-filled array of one dtype; every kernel allocates through one of these. */
export type ArrayMaker = (length: number) => FloatArray;

export function arrayMaker(dtype: DType): ArrayMaker {
  const Constructor = dtype === 'float64' ? Float64Array : Float32Array;
  return (length) => {
    try {
      return new Constructor(length);
    } catch (error) {
      // The engine refused the memory ("Array buffer allocation failed"): a typed error, not a crash.
      const bytes = length * Constructor.BYTES_PER_ELEMENT;
      throw new OutOfMemoryError(`js backend: allocating ${describeBytes(bytes)} failed (${(error as Error).message})`, bytes, {
        cause: error,
      });
    }
  };
}

/**
 * A buffer of the JS backend: a plain typed array in host memory. Storing into a
 * `Float32Array` rounds to float32, which is all the "float32 arithmetic" this backend does:
 * kernels compute in float64 JS numbers and round once on store.
 */
export class JsBuffer implements BackendBuffer {
  readonly length: number;
  private array: FloatArray | null;

  constructor(array: FloatArray) {
    this.array = array;
    this.length = array.length;
  }

  /** The underlying array. Throws once the buffer is disposed (core checks this first; this is defence in depth). */
  get data(): FloatArray {
    if (this.array === null) {
      throw new Error(`JsBuffer: use of a disposed buffer (${this.length} elements)`);
    }
    return this.array;
  }

  get disposed(): boolean {
    return this.array === null;
  }

  /** Drops the array so the garbage collector can reclaim it. Idempotent. */
  dispose(): void {
    this.array = null;
  }
}

/** The array inside a buffer that must be one of ours. */
export function dataOf(buffer: BackendBuffer): FloatArray {
  if (!(buffer instanceof JsBuffer)) {
    throw new Error('JsBackend: received a buffer that was not made by a JsBackend');
  }
  return buffer.data;
}
