/**
 * `@loop/core/conformance`: the suite every backend runs. A backend's
 * `test/conformance.test.ts` calls {@link runConformance} once.
 *
 * For a behaviour a backend lacks (per its {@link Capabilities}), the suite registers, under a
 * title ending in "declared unsupported", tests asserting that the API throws `UnsupportedError`,
 * so nothing is skipped. The raw-client helpers and the RFC 6455 test client the suite uses are
 * exported too, for a backend's own tests.
 * @packageDocumentation
 */
import { describe } from 'vitest';
import type { Capabilities } from '../capabilities.js';
import type { LoopFactory } from './helpers.js';
import { defineEdgeSuite } from './edge-suite.js';
import { defineHttpLifetimeSuite } from './http-lifetime-suite.js';
import { defineHttpSuite } from './http-suite.js';
import { defineIoSuite } from './io-suite.js';
import { defineLoopSuite } from './loop-suite.js';
import { defineOrderSuite } from './order-suite.js';
import { defineReactorSuite } from './reactor-suite.js';
import { defineStreamSuite } from './stream-suite.js';
import { defineWebSocketSuite } from './websocket-suite.js';

export { openFdCount, parseResponses, rawExchange, within, type LoopFactory, type ParsedResponse } from './helpers.js';
export { Opcode, TestWebSocket, UpgradeRefused, type ReceivedFrame, type TestWebSocketOptions, type WsClosed } from './websocket-client.js';

/**
 * Register the whole conformance suite for one backend with vitest.
 * @param name - the backend's name, used as the top-level describe
 * @param createLoop - the backend's loop factory
 * @param capabilities - what the backend declares it supports
 * @example
 * ```ts
 * import { runConformance } from '@loop/core/conformance';
 * import { capabilities, createLoop, name } from '../src/index.js';
 * runConformance(name, createLoop, capabilities);
 * ```
 */
export function runConformance(name: string, createLoop: LoopFactory, capabilities: Capabilities): void {
  describe(`conformance: ${name}`, () => {
    defineLoopSuite(createLoop, capabilities);
    defineOrderSuite(createLoop, capabilities);
    defineReactorSuite(createLoop, capabilities);
    defineStreamSuite(createLoop, capabilities);
    defineHttpSuite(createLoop, capabilities);
    defineIoSuite(createLoop, capabilities);
    defineHttpLifetimeSuite(createLoop, capabilities);
    defineEdgeSuite(createLoop, capabilities);
    defineWebSocketSuite(createLoop, capabilities);
  });
}
