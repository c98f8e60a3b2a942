/** Runs the conformance suite on the reference in-memory backend. */
import { conformanceSuite } from '../conformance/suite.js';
import { memoryFactory } from '../conformance/memory-factory.js';

conformanceSuite('memory', memoryFactory());
