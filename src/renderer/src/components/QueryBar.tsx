// The query bar: a textarea with the query's syntax highlighted behind it (an aria-hidden
// overlay built from the same text), so typing, selection, undo, IME and screen readers all
// work as in any text box. Enter runs the query; Shift+Enter adds a line. The error spot (the
// hub's position after a run, or a lexing problem found as you type) is underlined in place.
import { useMemo, type KeyboardEvent } from 'react'
import { highlight, tokenizeQuery } from '../lib/query-tokens'
import './query-bar.css'

export function QueryBar ({ id, value, onChange, onSubmit, errorOffset, placeholder, describedBy, testid = 'query-input' }: {
  id: string
  value: string
  onChange: (value: string) => void
  onSubmit: () => void
  /** 0-based position of the hub's error in `value` (only when it is about this very text). */
  errorOffset?: number | undefined
  placeholder?: string
  describedBy?: string
  testid?: string
}) {
  const problem = useMemo(() => tokenizeQuery(value).problem, [value])
  const at = errorOffset ?? problem?.offset
  const segments = useMemo(() => highlight(value, at), [value, at])

  function onKey (e: KeyboardEvent<HTMLTextAreaElement>): void {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) { e.preventDefault(); onSubmit() }
  }

  return (
    <div className="qbar">
      <div className="qbar-stack">
        <pre className="qbar-hl mono" aria-hidden="true" data-testid={`${testid}-highlight`}>
          {segments.map((s, i) => s.error
            ? <mark key={i} className={`q-${s.kind} q-err`} data-testid="query-error-mark">{s.text}</mark>
            : <span key={i} className={`q-${s.kind}`}>{s.text}</span>)}
          {/* a textarea ending in a newline shows an empty last line: so must the overlay */}
          {'\n'}
        </pre>
        <textarea id={id} className="qbar-input mono" rows={1} value={value} spellCheck={false} autoComplete="off" autoCapitalize="off"
          data-testid={testid} placeholder={placeholder} aria-invalid={at !== undefined}
          {...(describedBy === undefined ? {} : { 'aria-describedby': describedBy })}
          onChange={e => { onChange(e.target.value) }} onKeyDown={onKey} />
      </div>
      {problem !== undefined && errorOffset === undefined && (
        <p className="field-error small" data-testid="query-lex-problem">At position {problem.offset + 1}: expected {problem.message}.</p>
      )}
    </div>
  )
}
