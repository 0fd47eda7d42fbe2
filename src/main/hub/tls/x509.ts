// The one entry to @peculiar/x509: the Reflect polyfill must run before the library loads.
import './reflect-polyfill.js'
export * from '@peculiar/x509'
