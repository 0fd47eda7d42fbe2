import type { ReactNode } from 'react'
import type { HubErrorInfo } from '../../../shared/contract/index'
import { plainMessage } from '../lib/plain-errors'

/** An error in plain words, the hub's own message and IoT Hub code in small print. */
export function ErrorNote ({ error, children }: { error: HubErrorInfo; children?: ReactNode }) {
  const plain = plainMessage(error)
  return (
    <div className="note error" role="alert" data-testid="error-note" data-code={error.code}>
      <p>{plain}</p>
      {children}
      <small>
        {plain !== error.message ? `${error.message} · ` : ''}{error.name}{error.code !== 0 ? ` ${error.code}` : ''}
      </small>
    </div>
  )
}
