// Integration suites start real Envoys, brokers and hundreds of clients; jest's 5 s default
// is for unit tests. (Jest 30 reads testTimeout only globally, not per project.)
jest.setTimeout(120_000);
