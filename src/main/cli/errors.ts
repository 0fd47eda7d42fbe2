// CLI failures: a usage error exits 2 (the command line is wrong), anything else exits 1.
export class UsageError extends Error {
  constructor (message: string, readonly command: string) {
    super(message)
    this.name = 'UsageError'
  }
}

export class CliError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'CliError'
  }
}

interface SystemError {
  code?: string
  syscall?: string
  address?: string
  port?: number
  path?: string
  message?: string
  cause?: unknown
}

/** Plain words for the errors a server start can meet (port taken, no permission, no such address). */
export function describeSystemError (err: unknown): string | undefined {
  for (let e = err as SystemError | undefined, depth = 0; e !== undefined && e !== null && depth < 4; e = e.cause as SystemError | undefined, depth++) {
    const where = e.port === undefined ? '' : `port ${e.port}${e.address === undefined ? '' : ` on ${e.address}`}`
    if (e.syscall === 'listen' || e.syscall === 'bind') {
      if (e.code === 'EADDRINUSE') return `${where} is already in use`
      if (e.code === 'EACCES' || e.code === 'EPERM') {
        return `no permission to listen on ${where} (ports below 1024 need root or the CAP_NET_BIND_SERVICE capability)`
      }
      if (e.code === 'EADDRNOTAVAIL') return `cannot listen on ${e.address ?? 'that address'}: it is not an address of this machine`
    }
    if ((e.code === 'EACCES' || e.code === 'EPERM') && e.path !== undefined) return `no permission to use ${e.path}`
    if (e.code === 'EROFS' && e.path !== undefined) return `${e.path} is on a read-only file system`
    if (e.code === 'ENOSPC') return 'the disk is full'
  }
  return undefined
}
