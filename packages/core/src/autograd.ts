import type { Backend, BackendBuffer } from './backend/interface.js';
import { AutogradError, describeShape, OptionsError, RecurError, ShapeError } from './errors.js';
import { checkOptions, describeValue, type OptionsSchema, option } from './options.js';
import { keep, tidy } from './scope.js';
import { type Shape, sameShape, stridesOf } from './shape.js';
import { type GradNode, Parameter, Tensor, type TensorInit } from './tensor.js';

let gradEnabled = true;

/** Whether operations are currently recorded for `backward()`. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording operations (inference, optimizer updates, evaluation). */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

export type BackwardFn = (gradOutputs: readonly (Tensor | null)[], needsInputGrad: readonly boolean[]) => (Tensor | null)[];

/**
 * Whether `recordOp` would link an operation on these inputs into the graph (recording is on
 * and some input requires a gradient): ops that keep state for their backward pass can skip
 * it when not.
 */
export function willRecord(inputs: readonly (Tensor | null | undefined)[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t?.requiresGrad) return true;
  return false;
}

/**
 * Wraps the buffers an operation produced as tensors and, when recording and any input needs a
 * gradient, links them to a graph node whose `backward` computes the inputs' gradients.
 */
export function recordOp(
  name: string,
  backend: Backend,
  inputs: readonly (Tensor | null)[],
  outputs: readonly (readonly [BackendBuffer, Shape])[],
  backward: BackwardFn,
): Tensor[] {
  let node: GradNode | null = null;
  if (willRecord(inputs)) {
    // One indexed pass (see the note below on loops): which inputs need a gradient, and the
    // version of every input, so backward() can tell whether one was modified in place since.
    const count = inputs.length;
    const needsInputGrad = new Array<boolean>(count);
    const gradInputs = new Array<Tensor | null>(count);
    // A copy: the caller's array (concat's list of tensors, say) is theirs to change later.
    const recorded = new Array<Tensor | null>(count);
    const versions = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      const t = inputs[i];
      needsInputGrad[i] = !!t?.requiresGrad;
      gradInputs[i] = needsInputGrad[i] ? t : null;
      recorded[i] = t;
      versions[i] = t ? t.version : 0;
    }
    node = {
      name,
      inputs: gradInputs,
      outputCount: outputs.length,
      backward: (gradOutputs) => backward(gradOutputs, needsInputGrad),
      recorded,
      recordedVersions: versions,
    };
  }
  // A plain loop (no destructuring or callbacks): this runs for every op, often still in V8's
  // baseline tiers in short inference loops.
  const tensors: Tensor[] = [];
  for (let i = 0; i < outputs.length; i++) {
    const output = outputs[i];
    tensors.push(Tensor.fromBuffer(backend, output[0], output[1], node ? { gradFn: node, outputIndex: i } : NO_GRAPH));
  }
  return tensors;
}

const NO_GRAPH: TensorInit = {};

/** A recorded reshape over the same storage: no copy forward or backward (and no input values read). */
export function recordView(x: Tensor, shape: Shape): Tensor {
  if (!(gradEnabled && x.requiresGrad)) return x.view(shape);
  const node: GradNode = { name: 'reshape', inputs: [x], outputCount: 1, backward: ([g]) => [g ? g.view(x.shape) : null] };
  return x.view(shape, { gradFn: node });
}

/** Reverse topological order of the nodes reachable from `root` (outputs before inputs). */
function reverseTopologicalOrder(root: GradNode): GradNode[] {
  const order: GradNode[] = [];
  const visited = new Set<GradNode>();
  const stack: [GradNode, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [node, next] = top;
    if (next < node.inputs.length) {
      top[1]++;
      const child = node.inputs[next]?.gradFn;
      if (child && !visited.has(child)) {
        visited.add(child);
        stack.push([child, 0]);
      }
    } else {
      order.push(node);
      stack.pop();
    }
  }
  return order.reverse();
}

/**
 * Reference counts of the gradient tensors in flight, so each is disposed as soon as no
 * pending slot holds it, unless it became some leaf's `.grad` or came from the caller.
 */
class GradientPool {
  private counts = new Map<Tensor, number>();
  constructor(private readonly external: ReadonlySet<Tensor>) {}

  hold(t: Tensor): void {
    this.counts.set(t, (this.counts.get(t) ?? 0) + 1);
  }
  release(t: Tensor): void {
    const n = (this.counts.get(t) ?? 0) - 1;
    if (n > 0) {
      this.counts.set(t, n);
      return;
    }
    this.counts.delete(t);
    if (!this.external.has(t)) t.dispose();
  }
  /** Whether `t` is held exactly once (so ownership can move to a leaf without a copy). */
  heldOnce(t: Tensor): boolean {
    return this.counts.get(t) === 1 && !this.external.has(t);
  }
  /** Stops counting `t` without disposing it. */
  forget(t: Tensor): void {
    this.counts.delete(t);
  }
}

function addGradients(a: Tensor, b: Tensor): Tensor {
  const strides = stridesOf(a.shape);
  return Tensor.fromBuffer(a.backend, a.backend.binary('add', a.buffer, strides, b.buffer, strides, a.shape), a.shape);
}

function accumulateIntoLeaf(leaf: Tensor, g: Tensor, pool: GradientPool): void {
  if (leaf.grad === null) {
    // Ownership moves without a copy only when no other tensor can see the storage: a view of
    // another in-flight gradient or of the caller's seed must not become a `.grad` that
    // clipping then modifies in place (it would be scaled twice, or change the seed).
    if (pool.heldOnce(g) && !g.sharesStorage) {
      pool.forget(g);
      leaf.grad = keep(g);
    } else {
      leaf.grad = keep(Tensor.fromBuffer(g.backend, g.backend.unary('copy', g.buffer), g.shape));
      pool.release(g);
    }
    return;
  }
  const sum = keep(addGradients(leaf.grad, g));
  leaf.grad.dispose();
  leaf.grad = sum;
  pool.release(g);
}

export interface BackwardOptions {
  /**
   * Keep the graph usable for another `backward()` (PyTorch's `retain_graph`); gradients of a
   * second pass add to the first. Default false: a second pass through the graph throws.
   */
  retainGraph?: boolean;
}

const BACKWARD_OPTIONS: OptionsSchema<BackwardOptions> = { retainGraph: option.boolean };

function describeTensor(t: Tensor): string {
  return t instanceof Parameter && t.name !== undefined ? `parameter '${t.name}' ${describeShape(t.shape)}` : String(t);
}

/**
 * Refuses, before any gradient is computed, a graph that was already back-propagated without
 * `retainGraph` (running it again would add every gradient a second time) or one whose
 * recorded inputs were modified in place since the forward pass (the gradient would match
 * neither the old values nor the new ones).
 */
function checkGraph(order: readonly GradNode[]): void {
  for (const node of order) {
    if (node.released) {
      throw new AutogradError(
        `backward(): the graph through '${node.name}' was already back-propagated; pass { retainGraph: true } to the first backward() to run backward() through it again, or run the forward pass again`,
      );
    }
    const recorded = node.recorded;
    const versions = node.recordedVersions;
    if (!recorded || !versions) continue;
    for (let i = 0; i < recorded.length; i++) {
      const t = recorded[i];
      // A disposed input is reported by the backward function that reads it, if any does.
      if (!t || t.disposed || t.version === versions[i]) continue;
      throw new AutogradError(
        `backward(): ${describeTensor(t)} was modified in place (version ${versions[i]} → ${t.version}) after the forward pass that used it in '${node.name}' (by an optimizer step, loadStateDict or copyFrom), so its gradient would match neither the old nor the new values; call backward() before modifying it, or run the forward pass again`,
      );
    }
  }
}

/**
 * Back-propagates from `root`, accumulating into the `.grad` of every leaf tensor that
 * requires a gradient. `seed` defaults to 1 for a one-element root. The graph can be
 * back-propagated once, unless `options.retainGraph` keeps it for another pass.
 */
export function backward(root: Tensor, seed?: Tensor, options: BackwardOptions = {}): void {
  checkOptions('backward', options, BACKWARD_OPTIONS);
  if (seed != null && !(seed instanceof Tensor)) {
    throw new OptionsError(`backward(grad): grad must be a Tensor shaped like the root, received ${describeValue(seed)}`);
  }
  if (!root.requiresGrad) {
    throw new RecurError(`backward(): ${root} does not require a gradient; create inputs with { requiresGrad: true } or use parameters`);
  }
  if (seed && !sameShape(seed.shape, root.shape)) {
    throw new ShapeError(
      `backward(grad): grad must have the root's shape ${describeShape(root.shape)}, received ${describeShape(seed.shape)}`,
    );
  }
  if (!seed && root.size !== 1) {
    throw new ShapeError(
      `backward(): the root must hold one element (a loss), received ${describeShape(root.shape)}; pass a gradient of that shape instead`,
    );
  }
  const order = root.gradFn ? reverseTopologicalOrder(root.gradFn) : [];
  checkGraph(order);
  noGrad(() => {
    const start = seed ?? Tensor.fromBuffer(root.backend, root.backend.fill(root.size, 1), root.shape);
    const pool = new GradientPool(new Set(seed ? [seed] : []));
    pool.hold(start);
    if (root.gradFn === null) {
      accumulateIntoLeaf(root, start, pool);
      return;
    }
    const slots = new Map<GradNode, (Tensor | null)[]>();
    const slotsOf = (node: GradNode) => {
      let s = slots.get(node);
      if (!s) {
        s = new Array<Tensor | null>(node.outputCount).fill(null);
        slots.set(node, s);
      }
      return s;
    };
    slotsOf(root.gradFn)[root.outputIndex] = start;

    for (const node of order) {
      const gradOutputs = slots.get(node);
      slots.delete(node);
      if (!gradOutputs || gradOutputs.every((g) => g === null)) continue;
      // tidy frees the temporaries a backward function creates; the gradients escape.
      const gradInputs = tidy(() => node.backward(gradOutputs));
      for (const g of gradInputs) if (g) pool.hold(g);
      for (const g of gradOutputs) if (g) pool.release(g);
      node.inputs.forEach((input, i) => {
        const g = gradInputs[i];
        if (!input || !g) {
          if (g) pool.release(g);
          return;
        }
        if (!sameShape(g.shape, input.shape)) {
          throw new ShapeError(
            `internal: ${node.name} produced a gradient of shape ${describeShape(g.shape)} for an input of shape ${describeShape(input.shape)}`,
          );
        }
        if (input.gradFn === null) {
          accumulateIntoLeaf(input, g, pool);
          return;
        }
        const inputSlots = slotsOf(input.gradFn);
        const existing = inputSlots[input.outputIndex];
        if (existing) {
          inputSlots[input.outputIndex] = addGradients(existing, g);
          pool.hold(inputSlots[input.outputIndex] as Tensor);
          pool.release(existing);
          pool.release(g);
        } else {
          inputSlots[input.outputIndex] = g;
        }
      });
    }
  });
  if (!options.retainGraph) for (const node of order) node.released = true;
}
