// The repository root, the same from test/support under ts-jest and from dist/test/support.
export { REPO_ROOT } from '../../src/util/repo-root';
