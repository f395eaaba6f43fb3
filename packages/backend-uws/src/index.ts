/**
 * `@loop/backend-uws`: under construction (issue in progress).
 * @packageDocumentation
 */
/** The backend's name. */
export const name = 'uws';
