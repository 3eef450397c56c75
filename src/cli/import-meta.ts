import { pathToFileURL } from 'node:url';

/**
 * Injected into the CommonJS bundles in place of `import.meta.url` (esbuild --inject/--define):
 * the bundle file's own URL, so code that finds files beside itself keeps working.
 */
export const importMetaUrl = pathToFileURL(__filename).href;
