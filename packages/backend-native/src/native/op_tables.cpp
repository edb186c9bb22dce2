#include "op_tables.h"

#include "cells.h"
#include "elementwise.h"
#include "optimizers.h"

namespace recur {
namespace {
template <size_t N>
Napi::Array Names(Napi::Env env, const char* const (&names)[N]) {
  Napi::Array out = Napi::Array::New(env, N);
  for (size_t i = 0; i < N; i++) out.Set(static_cast<uint32_t>(i), Napi::String::New(env, names[i]));
  return out;
}
}  // namespace

Napi::Object OpTables(Napi::Env env) {
  Napi::Object tables = Napi::Object::New(env);
  tables.Set("unaryOps", Names(env, kUnaryOpNames));
  tables.Set("binaryOps", Names(env, kBinaryOpNames));
  tables.Set("cellKinds", Names(env, kCellKindNames));
  tables.Set("optimizerKinds", Names(env, kOptimizerKindNames));
  Napi::Object gates = Napi::Object::New(env);
  Napi::Object saved = Napi::Object::New(env);
  for (int k = 0; k < static_cast<int>(CellKind::Count); k++) {
    gates.Set(kCellKindNames[k], Napi::Number::New(env, gateCount(static_cast<CellKind>(k))));
    saved.Set(kCellKindNames[k], Napi::Number::New(env, savedBlocks(static_cast<CellKind>(k))));
  }
  tables.Set("gateCount", gates);
  tables.Set("savedBlocks", saved);
  Napi::Object stateCount = Napi::Object::New(env);
  for (int k = 0; k < static_cast<int>(OptimizerKind::Count); k++) stateCount.Set(kOptimizerKindNames[k], Napi::Number::New(env, kOptimizerStateCount[k]));
  tables.Set("optimizerStateCount", stateCount);
  return tables;
}
}  // namespace recur
