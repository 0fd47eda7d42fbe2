// A windowed table: only the rows in view (plus a few) are in the DOM, so 10,000 rows scroll
// as smoothly as 10. Keyboard: arrows, Page Up/Down, Home/End move the active row; Enter opens it.
import { useCallback, useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react'

export interface Column<T> {
  key: string; title: string; width: string; render: (row: T) => ReactNode
  /** Set to make the header a sort button (onSort gets this key). */
  sortKey?: string
}

const OVERSCAN = 6

export function VirtualTable<T> ({ rows, columns, rowKey, rowHeight = 48, onOpen, onToggle, label, sort, onSort }: {
  rows: T[]; columns: Array<Column<T>>; rowKey: (r: T) => string; rowHeight?: number; onOpen: (r: T) => void
  /** Space on the active row (selection). */
  onToggle?: (r: T) => void
  label: string
  /** The order shown, for the headers' aria-sort and arrows. */
  sort?: { column: string; direction: 'asc' | 'desc' } | null
  onSort?: (sortKey: string) => void
}) {
  const scroller = useRef<HTMLDivElement>(null)
  const [scrollTop, setScrollTop] = useState(0)
  const [height, setHeight] = useState(600)
  const [activeRaw, setActive] = useState(0)
  // the rows can shrink under the cursor (search, query): keep it on a real row
  const active = Math.max(0, Math.min(activeRaw, rows.length - 1))

  useEffect(() => {
    const el = scroller.current
    if (el === null) return
    const ro = new ResizeObserver(() => { setHeight(el.clientHeight) })
    ro.observe(el)
    setHeight(el.clientHeight)
    return () => { ro.disconnect() }
  }, [])

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN)
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / rowHeight) + OVERSCAN)
  const template = columns.map(c => c.width).join(' ')

  const moveTo = useCallback((i: number) => {
    const n = Math.max(0, Math.min(rows.length - 1, i))
    setActive(n)
    const el = scroller.current
    if (el === null) return
    const top = n * rowHeight
    if (top < el.scrollTop) el.scrollTop = top
    else if (top + rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = top + rowHeight - el.clientHeight
  }, [rows.length, rowHeight])

  function onKey (e: KeyboardEvent<HTMLDivElement>): void {
    const page = Math.max(1, Math.floor(height / rowHeight) - 1)
    const moves: Record<string, number> = { ArrowDown: active + 1, ArrowUp: active - 1, PageDown: active + page, PageUp: active - page, Home: 0, End: rows.length - 1 }
    const to = moves[e.key]
    if (to !== undefined) { e.preventDefault(); moveTo(to); return }
    if (e.key === 'Enter') { const r = rows[active]; if (r !== undefined) onOpen(r) }
    if (e.key === ' ' && onToggle !== undefined) { e.preventDefault(); const r = rows[active]; if (r !== undefined) onToggle(r) }
  }

  const visible: ReactNode[] = []
  for (let i = first; i < last; i++) {
    const r = rows[i]
    if (r === undefined) continue
    visible.push(
      <div key={rowKey(r)} role="row" aria-rowindex={i + 2} aria-selected={i === active} className={`vrow${i === active ? ' active' : ''}`}
        data-testid="device-row" data-id={rowKey(r)}
        style={{ transform: `translateY(${i * rowHeight}px)`, height: rowHeight, gridTemplateColumns: template }}
        onClick={() => { setActive(i); onOpen(r) }}>
        {columns.map(c => <div key={c.key} role="gridcell" className="vcell">{c.render(r)}</div>)}
      </div>
    )
  }

  return (
    <div className="vtable" role="grid" aria-label={label} aria-rowcount={rows.length + 1}>
      <div role="row" aria-rowindex={1} className="vhead" style={{ gridTemplateColumns: template }}>
        {columns.map(c => {
          const dir = c.sortKey !== undefined && sort?.column === c.sortKey ? sort.direction : undefined
          return (
            <div key={c.key} role="columnheader" className="vcell" aria-sort={c.sortKey === undefined ? undefined : dir === 'asc' ? 'ascending' : dir === 'desc' ? 'descending' : 'none'}>
              {c.sortKey !== undefined && onSort !== undefined
                ? <button type="button" className="vsort" data-testid={`sort-${c.sortKey}`} data-dir={dir ?? ''} onClick={() => { onSort(c.sortKey as string) }}
                    title={dir === undefined ? `Sort by ${c.title.toLowerCase()}` : dir === 'asc' ? 'Sorted ascending: click for descending' : 'Sorted descending: click for the default order'}>
                    {c.title}<span aria-hidden="true" className="vsort-arrow">{dir === 'asc' ? ' ▲' : dir === 'desc' ? ' ▼' : ''}</span>
                  </button>
                : c.title}
            </div>
          )
        })}
      </div>
      <div ref={scroller} className="vscroll" tabIndex={0} onKeyDown={onKey} data-testid="device-table"
        onScroll={e => { setScrollTop(e.currentTarget.scrollTop) }}>
        <div style={{ height: rows.length * rowHeight, position: 'relative' }}>{visible}</div>
      </div>
    </div>
  )
}
