// TLS material of a hub: its own CA, the server certificate, device client certificates.
export { ensureTls, type EnsureTlsOptions, type TlsMaterial } from './ensure-tls.js'
export { issueDeviceCertificate, type DeviceCertificate, type IssueDeviceCertificateOptions } from './device-cert.js'
export { certificateThumbprints, normalizeThumbprint, type Thumbprints } from './thumbprint.js'
export { tlsPaths, type TlsPaths } from './files.js'
export { certNames, type CertNames } from './names.js'
