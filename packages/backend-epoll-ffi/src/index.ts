/**
 * `@loop/backend-epoll-ffi`: under construction (issue in progress).
 * @packageDocumentation
 */
/** The backend's name. */
export const name = 'epoll-ffi';
