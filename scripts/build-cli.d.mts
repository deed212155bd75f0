/** Types of scripts/build-cli.mjs (plain JavaScript so the launcher runs on bare Node). */
export declare const REPO_ROOT: string;
export declare const DIST: string;
export declare function newestSourceTime(root?: string): number;
export declare function isBuildCurrent(outdir?: string, root?: string): boolean;
export declare function buildCli(outdir?: string): Promise<string>;
export declare function currentEntry(outdir?: string): string | undefined;
