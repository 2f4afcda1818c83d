/** Types for scripts/start.mjs (plain JavaScript, so that `npm start` needs no TypeScript loader). */
export declare function ensureBundle(options?: { force?: boolean }): Promise<{ path: string; built: boolean }>;
export declare function prepareTemplate(bundlePath: string, timeoutMs?: number): Promise<void>;
