/// <reference types="vite-plugin-pwa/vanillajs" />
/** Defined by vite.config.ts: the first 12 hex digits of the bundled model's SHA-256. */
declare const __BUNDLED_MODEL_HASH__: string;
/** Defined by vite.config.ts: the release the page is (version+commit, or LAB_BUILD_ID). */
declare const __APP_BUILD__: string;
