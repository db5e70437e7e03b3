/// <reference types="vite-plugin-pwa/vanillajs" />
/** Defined by vite.config.ts: the first 12 hex digits of the bundled model's SHA-256. */
declare const __BUNDLED_MODEL_HASH__: string;
