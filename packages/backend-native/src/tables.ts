/**
 * The addon's op tables against @recur/core/backend's constants. The C++ enums index kernels
 * by position, so an addon built from sources whose enum order drifted from the constants would
 * run the wrong kernel without any error: such a build is refused at load time instead.
 */
import { BINARY_OPS, CELL_KINDS, GATE_COUNT, OPTIMIZER_KINDS, OPTIMIZER_STATE_COUNT, SAVED_BLOCKS, UNARY_OPS } from '@recur/core/backend';

/** What the addon reports (src/native/op_tables.cpp). */
export interface NativeTables {
  unaryOps: string[];
  binaryOps: string[];
  cellKinds: string[];
  optimizerKinds: string[];
  gateCount: Record<string, number>;
  savedBlocks: Record<string, number>;
  optimizerStateCount: Record<string, number>;
}

/** A description of every disagreement between the addon's tables and core's constants (empty when they agree). */
export function tableMismatches(tables: NativeTables | undefined): string[] {
  if (!tables) return ['the addon reports no op tables (it was built from older sources)'];
  const problems: string[] = [];
  const list = (name: string, actual: readonly string[], expected: readonly string[]) => {
    if (actual.join() !== expected.join()) problems.push(`${name}: addon [${actual.join(', ')}], core [${expected.join(', ')}]`);
  };
  const table = (name: string, actual: Record<string, number>, expected: Readonly<Record<string, number>>) => {
    for (const [key, value] of Object.entries(expected)) {
      if (actual[key] !== value) problems.push(`${name}.${key}: addon ${actual[key]}, core ${value}`);
    }
  };
  list('unary ops', tables.unaryOps, UNARY_OPS);
  list('binary ops', tables.binaryOps, BINARY_OPS);
  list('cell kinds', tables.cellKinds, CELL_KINDS);
  list('optimizer kinds', tables.optimizerKinds, OPTIMIZER_KINDS);
  table('gate count', tables.gateCount, GATE_COUNT);
  table('saved blocks', tables.savedBlocks, SAVED_BLOCKS);
  table('optimizer state count', tables.optimizerStateCount, OPTIMIZER_STATE_COUNT);
  return problems;
}
