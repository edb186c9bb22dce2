import { createJsBackend } from '@recur/backend-js';
import { defineConformanceSuite } from '../src/index.js';

// The reference backend checks itself against PyTorch and finite differences, in both dtypes.
defineConformanceSuite(() => createJsBackend(), { name: 'js float32' });
defineConformanceSuite(() => createJsBackend({ dtype: 'float64' }), { name: 'js float64' });
