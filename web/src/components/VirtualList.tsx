// A windowed list over @tanstack/virtual-core: only the rows in view (plus overscan) exist
// in the DOM, so 5,000 sites scroll like 30. Row components are reused across indexes: they
// must not keep per-item state of their own (key it by the item inside if they do).
import {
  elementScroll,
  observeElementOffset,
  observeElementRect,
  Virtualizer,
} from '@tanstack/virtual-core';
import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useReducer, useRef, useState } from 'preact/hooks';

export interface VirtualListProps {
  count: number;
  rowHeight: number;
  row: (index: number) => ComponentChildren;
  label: string;
  /** called with the indexes in view when they change */
  onRange?: (first: number, last: number) => void;
  height?: string;
}

export function VirtualList({ count, rowHeight, row, label, onRange, height }: VirtualListProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const [v] = useState(
    () =>
      new Virtualizer<HTMLDivElement, Element>({
        count,
        getScrollElement: () => scroller.current,
        estimateSize: () => rowHeight,
        overscan: 5,
        observeElementRect,
        observeElementOffset,
        scrollToFn: elementScroll,
        onChange: () => rerender(0),
      }),
  );
  v.setOptions({ ...v.options, count });
  useLayoutEffect(() => v._didMount(), [v]);
  useLayoutEffect(() => v._willUpdate());
  const items = v.getVirtualItems();
  const slotOf = useRef(new Map<number, number>());
  const slotted = assignSlots(items, slotOf.current);
  slotOf.current = slotted.slots;
  const first = items[0]?.index ?? -1;
  const last = items[items.length - 1]?.index ?? -1;
  useLayoutEffect(() => onRange?.(first, last), [first, last, onRange]);
  return (
    <div
      ref={scroller}
      class="vlist"
      style={{ height: height ?? '70vh' }}
      tabIndex={0}
      role="region"
      aria-label={label}
    >
      <ul class="vlist-inner" style={{ height: `${v.getTotalSize()}px` }}>
        {slotted.ordered.map((it) => (
          <li
            key={slotted.slots.get(it.index)}
            class="vlist-row"
            style={{ height: `${rowHeight}px`, transform: `translateY(${it.start}px)` }}
          >
            {row(it.index)}
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * Rows are keyed by a slot, not by their index, and rendered in slot order: an index that
 * scrolls in takes the slot (and the DOM elements) of one that scrolled out, so scrolling
 * patches text and a transform instead of removing, creating and reordering rows.
 */
function assignSlots<T extends { index: number }>(
  items: readonly T[],
  before: ReadonlyMap<number, number>,
): { slots: Map<number, number>; ordered: T[] } {
  const slots = new Map<number, number>();
  const used = new Set<number>();
  for (const it of items) {
    const s = before.get(it.index);
    if (s !== undefined) {
      slots.set(it.index, s);
      used.add(s);
    }
  }
  let free = 0;
  for (const it of items) {
    if (slots.has(it.index)) continue;
    while (used.has(free)) free++;
    slots.set(it.index, free);
    used.add(free);
  }
  const ordered = [...items].sort((a, b) => slots.get(a.index)! - slots.get(b.index)!);
  return { slots, ordered };
}
