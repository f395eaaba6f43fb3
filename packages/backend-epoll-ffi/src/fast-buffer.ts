/**
 * Node's own Buffer methods that `buffer.write(string, offset, encoding)` ends in (FastBuffer's
 * `latin1Write` and `utf8Write`): present on every Buffer since Node's early days but not in
 * @types/node. Calling them directly skips `write()`'s argument juggling on the hot path;
 * test/node-internals.test.ts fails loudly if a Node drops them.
 */
export interface FastBuffer extends Buffer {
  latin1Write(text: string, offset: number): number;
  utf8Write(text: string, offset: number): number;
}
