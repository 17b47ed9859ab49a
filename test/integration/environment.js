// The integration suites' jest environment: Node's, plus a registry of the processes a test
// file starts (test/support/children.ts). Teardown runs after every hook of the file, so
// whatever is still running then is killed: a suite whose beforeAll failed halfway never
// assigned the handle its afterAll would have stopped, and that orphan's open pipe kept
// jest from exiting at the end of the run.
const { TestEnvironment } = require('jest-environment-node');

class IntegrationEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.testPath = context.testPath;
    this.children = new Set();
    this.global.__mqttXdsChildren = this.children;
  }

  /** Where the leftover report goes: jest's own stderr (overridable, for the test of this file). */
  warn(message) {
    process.stderr.write(`${message}\n`);
  }

  async teardown() {
    const left = [...this.children].filter((c) => c.exitCode === null && c.signalCode === null);
    if (left.length > 0) {
      this.warn(`${this.testPath ?? 'a test file'} left ${left.length} process(es) running; killing them`);
    }
    await Promise.all(
      left.map(
        (c) =>
          new Promise((resolve) => {
            c.once('exit', resolve);
            c.kill('SIGKILL');
          }),
      ),
    );
    this.children.clear();
    await super.teardown();
  }
}

module.exports = IntegrationEnvironment;
