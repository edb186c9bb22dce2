/** Module names of the workspace packages mapped to their TypeScript sources (see vitest.shared.mjs). */
export declare const workspaceAliases: Record<string, string>;
