/** Per-dispatch parameters: one 256-byte uniform slot, read by the kernels with `pu`/`pf`/`pi`. */

export const SLOT_BYTES = 256;
export const PARAM_WORDS = SLOT_BYTES / 4;

/** Per-dispatch parameters, written in slot order (see the kernel each call dispatches). */
export class Params {
  readonly words = new Uint32Array(PARAM_WORDS);
  private readonly floats = new Float32Array(this.words.buffer);
  private readonly ints = new Int32Array(this.words.buffer);
  private at = 0;
  u(...values: number[]): this {
    for (const v of values) this.words[this.at++] = v >>> 0;
    return this;
  }
  f(...values: number[]): this {
    for (const v of values) this.floats[this.at++] = v;
    return this;
  }
  i(value: number): this {
    this.ints[this.at++] = value;
    return this;
  }
  bool(value: boolean): this {
    return this.u(value ? 1 : 0);
  }
  /** Continues at slot `index` (arrays start at fixed slots). */
  seek(index: number): this {
    this.at = index;
    return this;
  }
  array(values: readonly number[], at: number): this {
    for (let i = 0; i < values.length; i++) this.words[at + i] = values[i] >>> 0;
    return this;
  }
}
