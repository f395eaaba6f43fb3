import { runConformance } from '@loop/core/conformance';
import { capabilities, createLoop, name } from '../src/index.js';

// The whole suite once per trigger mode: every socket the loop owns is registered level-triggered
// in the first run and edge-triggered in the second.
runConformance(`${name} (level-triggered)`, (options) => createLoop({ ...options, trigger: 'level' }), capabilities);
runConformance(`${name} (edge-triggered)`, (options) => createLoop({ ...options, trigger: 'edge' }), capabilities);
