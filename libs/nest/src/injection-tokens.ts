/** Nest injection tokens for the framework-free objects the apps share. */
export const APP_CONFIG = Symbol('APP_CONFIG');
export const STORE = Symbol('STORE');
export const BUILD_QUEUE = Symbol('BUILD_QUEUE');
