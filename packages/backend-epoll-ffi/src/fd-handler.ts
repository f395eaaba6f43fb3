/**
 * What the loop's fd table holds: an object that reacts to the epoll events of one fd.
 *
 * Each registration gets a fresh `token`, stored in the event's `data` beside the fd. An event whose
 * token is not the slot's current one is stale (its fd was closed, and maybe reused, earlier in the
 * same batch) and is dropped: this is uSockets' "null the slot of a poll stopped during dispatch",
 * done without touching the batch.
 */
export interface FdHandler {
  /** The token of the current registration (0 while not registered). */
  token: number;
  /**
   * The fd is ready: `events` is the epoll mask. Runs in the poll phase from the loop's dispatch;
   * it catches and reports the errors of the user callbacks it calls, so that one failing callback
   * does not cost the rest of the batch (an edge-triggered fd would lose its edge).
   */
  ioEvent(events: number): void;
}
