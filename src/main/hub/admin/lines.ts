// Splits a socket's byte stream into JSON lines, with a length limit.
import type { Socket } from 'node:net'

export function onLines (socket: Socket, maxBytes: number, onLine: (line: string) => void, onTooLong: () => void): void {
  let buffered = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => {
    buffered += chunk
    let nl = buffered.indexOf('\n')
    while (nl !== -1) {
      const line = buffered.slice(0, nl).trim()
      buffered = buffered.slice(nl + 1)
      if (line !== '') onLine(line)
      nl = buffered.indexOf('\n')
    }
    if (Buffer.byteLength(buffered) > maxBytes) {
      buffered = ''
      onTooLong()
    }
  })
}
