export { defineConformanceSuite, conformanceCases, type ConformanceOptions } from './suite.js';
export { compareArrays, expectClose, referenceTolerance, type Comparison, type Tolerance } from './compare.js';
export { fixtures } from './fixtures.js';
export { CELL_TYPES, MinimalGatedCell, buildModel, type CellType, type ModelShape } from './models.js';
export type { CaseGroup, SuiteCase } from './suite-types.js';
