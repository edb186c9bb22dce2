import { recordOp } from '../autograd.js';
import type { BinaryOp, UnaryOp } from '../backend/interface.js';
import { broadcastShapes, broadcastStrides, type Shape, sameShape } from '../shape.js';
import { commonBackend, Tensor } from '../tensor.js';

export type TensorLike = Tensor | number;

function asTensor(value: TensorLike, like: Tensor): Tensor {
  return value instanceof Tensor ? value : Tensor.fromBuffer(like.backend, like.backend.upload([value]), []);
}

/** Sums a broadcast gradient back to an operand's shape (the adjoint of broadcasting). */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const padded = [...new Array<number>(g.rank - shape.length).fill(1), ...shape];
  const buffer = g.backend.sumTo(g.buffer, g.shape, padded);
  return Tensor.fromBuffer(g.backend, buffer, shape);
}

function rawBinary(op: BinaryOp, a: Tensor, b: Tensor): [Tensor['buffer'], number[]] {
  const outShape = broadcastShapes(a.shape, b.shape, op);
  const buffer = a.backend.binary(
    op,
    a.buffer,
    broadcastStrides(a.shape, outShape),
    b.buffer,
    broadcastStrides(b.shape, outShape),
    outShape,
  );
  return [buffer, outShape];
}

/** Element-wise op with NumPy broadcasting; the result is not recorded. */
function binaryNoGrad(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const [buffer, shape] = rawBinary(op, a, b);
  return Tensor.fromBuffer(a.backend, buffer, shape);
}

function binary(op: BinaryOp, aLike: TensorLike, bLike: TensorLike): Tensor {
  const a = aLike instanceof Tensor ? aLike : asTensor(aLike, bLike as Tensor);
  const b = asTensor(bLike, a);
  const backend = commonBackend(op, a, b);
  const [buffer, shape] = rawBinary(op, a, b);
  return recordOp(op, backend, [a, b], [[buffer, shape]], ([g], needs) => {
    if (!g) return [null, null];
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    switch (op) {
      case 'add':
        ga = needs[0] ? sumToShape(g, a.shape) : null;
        gb = needs[1] ? sumToShape(g, b.shape) : null;
        break;
      case 'sub':
        ga = needs[0] ? sumToShape(g, a.shape) : null;
        gb = needs[1] ? sumToShape(unaryNoGrad('neg', g), b.shape) : null;
        break;
      case 'mul':
        ga = needs[0] ? sumToShape(binaryNoGrad('mul', g, b), a.shape) : null;
        gb = needs[1] ? sumToShape(binaryNoGrad('mul', g, a), b.shape) : null;
        break;
      case 'div': {
        ga = needs[0] ? sumToShape(binaryNoGrad('div', g, b), a.shape) : null;
        if (needs[1]) {
          // d(a/b)/db = −a/b²
          const quotient = binaryNoGrad('div', binaryNoGrad('div', a, b), b);
          gb = sumToShape(unaryNoGrad('neg', binaryNoGrad('mul', g, quotient)), b.shape);
        }
        break;
      }
    }
    return [ga, gb];
  })[0];
}

export const add = (a: TensorLike, b: TensorLike): Tensor => binary('add', a, b);
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('sub', a, b);
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('mul', a, b);
export const div = (a: TensorLike, b: TensorLike): Tensor => binary('div', a, b);

export function unaryNoGrad(op: UnaryOp, x: Tensor, param?: number, param2?: number): Tensor {
  return Tensor.fromBuffer(x.backend, x.backend.unary(op, x.buffer, param, param2), x.shape);
}

/** The local derivative of each differentiable unary op, from its input `x` and output `y`. */
function unaryDerivative(op: UnaryOp, x: Tensor, y: Tensor, param?: number): Tensor {
  switch (op) {
    case 'exp':
      return unaryNoGrad('copy', y);
    case 'log':
      return unaryNoGrad('reciprocal', x);
    case 'tanh':
      return binaryNoGrad('sub', Tensor.fromBuffer(x.backend, x.backend.fill(1, 1), []), unaryNoGrad('square', y));
    case 'sigmoid':
      return binaryNoGrad('mul', y, binaryNoGrad('sub', Tensor.fromBuffer(x.backend, x.backend.fill(1, 1), []), y));
    case 'relu':
      return unaryNoGrad('step', x);
    case 'sqrt':
      return unaryNoGrad('scale', unaryNoGrad('reciprocal', y), 0.5);
    case 'square':
      return unaryNoGrad('scale', x, 2);
    case 'abs':
      return binaryNoGrad('sub', unaryNoGrad('step', x), unaryNoGrad('step', unaryNoGrad('neg', x)));
    case 'reciprocal':
      return unaryNoGrad('neg', unaryNoGrad('square', y));
    case 'scale':
      return Tensor.fromBuffer(x.backend, x.backend.fill(x.size, param ?? 1), x.shape);
    default:
      throw new Error(`internal: no derivative for unary op '${op}'`);
  }
}

function unary(op: UnaryOp, x: Tensor, param?: number): Tensor {
  const buffer = x.backend.unary(op, x.buffer, param);
  const y: Tensor = recordOp(op, x.backend, [x], [[buffer, x.shape]], ([g]): (Tensor | null)[] => {
    if (!g) return [null];
    if (op === 'neg') return [unaryNoGrad('neg', g)];
    if (op === 'scale') return [unaryNoGrad('scale', g, param)];
    return [binaryNoGrad('mul', g, unaryDerivative(op, x, y, param))];
  })[0];
  return y;
}

export const neg = (x: Tensor): Tensor => unary('neg', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const square = (x: Tensor): Tensor => unary('square', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x);
/** `x · factor` for a constant factor. */
export const scale = (x: Tensor, factor: number): Tensor => unary('scale', x, factor);
