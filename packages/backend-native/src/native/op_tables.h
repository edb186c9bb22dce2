// The addon's op tables (op names in code order, gate and saved-block counts), reported to
// TypeScript so that a build whose enums drifted from @recur/core/backend's constants refuses
// to load instead of running the wrong kernel.
#pragma once
#include <napi.h>

namespace recur {
Napi::Object OpTables(Napi::Env env);
}  // namespace recur
