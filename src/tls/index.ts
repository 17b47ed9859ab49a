// TLS material as the rest of the program sees it: PEM certificate chains and keys checked
// (parse, key match, validity, chain) before anything serves them. Pure; no file I/O.
export * from './pem-check';
