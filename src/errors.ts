/**
 * Moved to src/domain/errors.ts (the bottom layer). This re-export keeps the modules that still
 * import '../errors' working until each is switched over.
 */
export * from './domain/errors';
