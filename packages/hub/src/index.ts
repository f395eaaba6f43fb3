/**
 * `@loop/hub`: under construction (issue in progress).
 * @packageDocumentation
 */
export {};
