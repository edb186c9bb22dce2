/** Softmax cross-entropy and the optimizer updates (SGD, Adam/AdamW + AMSGrad, RMSprop), with PyTorch's order of operations. */
import { ELEMENTWISE_ENTRY, type KernelSource, PRELUDE, storageDecl } from './prelude.js';

/**
 * Softmax cross-entropy, one invocation per row. Bindings: logits, targets (i32), dLogits (rw),
 * rowLoss (rw). params: rows, classes, ignoreIndex (i32), 1/count.
 */
export function crossEntropyKernel(): KernelSource {
  return {
    key: 'xent',
    storage: ['read', 'read', 'rw', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'L', 'read')}${storageDecl(2, 'Y', 'read', 'i32')}${storageDecl(3, 'D', 'rw')}${storageDecl(4, 'RL', 'rw')}
${ELEMENTWISE_ENTRY} {
  let r = gindex(gid, nwg);
  if (r >= pu(0u)) { return; }
  let C = pu(1u);
  let base = r * C;
  let y = Y[r];
  if (y == pi(2u)) {
    for (var j = 0u; j < C; j++) { D[base + j] = 0.0; }
    RL[r] = 0.0;
    return;
  }
  var mx = L[base];
  for (var j = 1u; j < C; j++) { mx = max(mx, L[base + j]); }
  var s = 0.0;
  for (var j = 0u; j < C; j++) { s += exp(L[base + j] - mx); }
  let inv = pf(3u);
  let yu = u32(y);
  RL[r] = log(s) + mx - L[base + yu];
  for (var j = 0u; j < C; j++) {
    let p = exp(L[base + j] - mx) / s;
    D[base + j] = (p - select(0.0, 1.0, j == yu)) * inv;
  }
}`,
  };
}

/** SGD. Bindings param (rw), grad, momentum buffer (rw). params: n, lr, momentum, dampening, nesterov, wd, firstStep. */
export function sgdKernel(): KernelSource {
  return {
    key: 'sgd',
    storage: ['rw', 'read', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'Pm', 'rw')}${storageDecl(2, 'G', 'read')}${storageDecl(3, 'M', 'rw')}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  if (i >= pu(0u)) { return; }
  let mu = pf(2u);
  let wd = pf(5u);
  var d = G[i];
  if (wd != 0.0) { d += wd * Pm[i]; }
  if (mu != 0.0) {
    var buf: f32;
    if (pu(6u) != 0u) { buf = d; } else { buf = mu * M[i] + (1.0 - pf(3u)) * d; }
    M[i] = buf;
    if (pu(4u) != 0u) { d = d + mu * buf; } else { d = buf; }
  }
  Pm[i] = Pm[i] + (-pf(1u)) * d;
}`,
  };
}

/**
 * Adam/AdamW, part 1. Bindings param (rw), grad, m (rw), v (rw).
 * params: n, lr, beta1, beta2, 1−beta1, 1−beta2, eps, wd, decoupled, amsgrad, stepSize, sqrt(1−beta2^t).
 * Without AMSGrad it also updates the parameter.
 */
export function adamKernel(): KernelSource {
  return {
    key: 'adam',
    storage: ['rw', 'read', 'rw', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'Pm', 'rw')}${storageDecl(2, 'G', 'read')}${storageDecl(3, 'M', 'rw')}${storageDecl(4, 'V', 'rw')}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  if (i >= pu(0u)) { return; }
  var p = Pm[i];
  var g = G[i];
  let wd = pf(7u);
  if (wd != 0.0) {
    if (pu(8u) != 0u) { p = p * (1.0 - pf(1u) * wd); } else { g = g + wd * p; }
  }
  let m = M[i] * pf(2u) + pf(4u) * g;
  let v = V[i] * pf(3u) + pf(5u) * g * g;
  M[i] = m;
  V[i] = v;
  if (pu(9u) == 0u) {
    let denom = sqrt(v) / pf(11u) + pf(6u);
    p = p + (-pf(10u)) * (m / denom);
  }
  Pm[i] = p;
}`,
  };
}

/** AMSGrad part 2. Bindings param (rw), m, v, vMax (rw). params as adamKernel. */
export function amsgradKernel(): KernelSource {
  return {
    key: 'amsgrad',
    storage: ['rw', 'read', 'read', 'rw'],
    code: `${PRELUDE}${storageDecl(1, 'Pm', 'rw')}${storageDecl(2, 'M', 'read')}${storageDecl(3, 'V', 'read')}${storageDecl(4, 'VX', 'rw')}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  if (i >= pu(0u)) { return; }
  let vx = max(VX[i], V[i]);
  VX[i] = vx;
  let denom = sqrt(vx) / pf(11u) + pf(6u);
  Pm[i] = Pm[i] + (-pf(10u)) * (M[i] / denom);
}`,
  };
}

/**
 * RMSprop in three kernels of ≤ 4 storage buffers, through a scratch buffer `tmp`.
 * params: n, lr, alpha, 1−alpha, eps, wd, momentum, centered.
 */
export function rmspropKernels(): KernelSource[] {
  return [
    {
      key: 'rmsprop-1',
      storage: ['read', 'read', 'rw', 'rw'],
      // g = grad + wd·p; squareAvg update; tmp = g.
      code: `${PRELUDE}${storageDecl(1, 'Pm', 'read')}${storageDecl(2, 'G', 'read')}${storageDecl(3, 'SQ', 'rw')}${storageDecl(4, 'TMP', 'rw')}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  if (i >= pu(0u)) { return; }
  var g = G[i];
  let wd = pf(5u);
  if (wd != 0.0) { g = g + wd * Pm[i]; }
  SQ[i] = SQ[i] * pf(2u) + pf(3u) * g * g;
  TMP[i] = g;
}`,
    },
    {
      key: 'rmsprop-2',
      storage: ['read', 'rw', 'rw'],
      // centered: gradAvg update; tmp = g / avg.
      code: `${PRELUDE}${storageDecl(1, 'SQ', 'read')}${storageDecl(2, 'GA', 'rw')}${storageDecl(3, 'TMP', 'rw')}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  if (i >= pu(0u)) { return; }
  let g = TMP[i];
  var avg: f32;
  if (pu(7u) != 0u) {
    let ga = GA[i] * pf(2u) + pf(3u) * g;
    GA[i] = ga;
    avg = sqrt(SQ[i] - ga * ga) + pf(4u);
  } else {
    avg = sqrt(SQ[i]) + pf(4u);
  }
  TMP[i] = g / avg;
}`,
    },
    {
      key: 'rmsprop-3',
      storage: ['rw', 'rw', 'read'],
      code: `${PRELUDE}${storageDecl(1, 'Pm', 'rw')}${storageDecl(2, 'BUF', 'rw')}${storageDecl(3, 'TMP', 'read')}
${ELEMENTWISE_ENTRY} {
  let i = gindex(gid, nwg);
  if (i >= pu(0u)) { return; }
  let mu = pf(6u);
  if (mu > 0.0) {
    let b = BUF[i] * mu + TMP[i];
    BUF[i] = b;
    Pm[i] = Pm[i] + (-pf(1u)) * b;
  } else {
    Pm[i] = Pm[i] + (-pf(1u)) * TMP[i];
  }
}`,
    },
  ];
}
