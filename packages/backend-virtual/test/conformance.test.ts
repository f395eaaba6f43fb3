import { runConformance } from '@loop/core/conformance';
import { capabilities, createLoop, name } from '../src/index.js';

runConformance(name, createLoop, capabilities);
