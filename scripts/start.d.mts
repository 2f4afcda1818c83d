/** Types for scripts/start.mjs (plain JavaScript, so that `npm start` needs no TypeScript loader). */
export declare const BUNDLE_EXTERNAL: string[];
export declare function ensureBundle(options?: { force?: boolean }): Promise<{ path: string; built: boolean }>;
export declare function prepareTemplate(bundlePath: string, timeoutMs?: number): Promise<void>;
