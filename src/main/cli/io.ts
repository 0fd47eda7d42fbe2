// Where the CLI writes: stdout for results, stderr for messages and logs.
export interface CliIo {
  out(text: string): void
  err(text: string): void
}

export const processIo: CliIo = {
  out: (text) => { process.stdout.write(text.endsWith('\n') ? text : `${text}\n`) },
  err: (text) => { process.stderr.write(text.endsWith('\n') ? text : `${text}\n`) }
}
