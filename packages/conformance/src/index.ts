export { type Comparison, compareArrays, expectClose, referenceTolerance, type Tolerance } from './compare.js';
export { fixtures } from './fixtures.js';
export { buildModel, CELL_TYPES, type CellType, MinimalGatedCell, type ModelShape } from './models.js';
export { type ConformanceOptions, conformanceCases, defineConformanceSuite } from './suite.js';
export type { CaseGroup, SuiteCase } from './suite-types.js';
