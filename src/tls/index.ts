// TLS material as the rest of the program sees it: PEM certificate chains and keys checked
// (parse, key match, validity, chain) before anything serves them (pem-check, pure), the
// bounded reading of their files (read-pem), the sources a watched pair reads from
// (pem-source: files here, a Kubernetes Secret from discovery), and the HTTPS client
// towards the brokers' agents (client-tls).
export * from './pem-check';
export * from './read-pem';
export * from './client-tls';
export * from './refusal-report';
export * from './pem-source';
export * from './watched-pair';
export * from './tenant-certificates';
