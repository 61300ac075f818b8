// Types of bin/dist.js (plain JavaScript, so that the entry point loads without a compiler).
export declare const MANIFEST: string;
export declare function stamp(path: string): string;
export declare function distAJour(root: string, distDir?: string): boolean;
