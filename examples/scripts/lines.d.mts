/** Types of lines.mjs (shared by scripts/update-readme.mjs and test/readme.test.ts). */
export declare const EXAMPLES: readonly { name: string; recur: string; pytorch: string }[];
export declare function source(path: string): string;
export declare function codeLines(text: string): number;
export declare function block(readme: string, path: string): string | null;
export declare function table(): string;
