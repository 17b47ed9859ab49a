// TLS material as the rest of the program sees it: PEM certificate chains and keys checked
// (parse, key match, validity, chain) before anything serves them (pem-check, pure), and
// the bounded reading of their files (read-pem), and the HTTPS client towards the brokers'
// agents (client-tls).
export * from './pem-check';
export * from './read-pem';
export * from './client-tls';
export * from './refusal-report';
export * from './watched-pair';
export * from './tenant-certificates';
