// The child-process helpers live in src/util so the demo and the test brokers share them.
export { LineRing, awaitReady, captureOutput, exited, stopChild, track } from '../../src/util/child-process';
