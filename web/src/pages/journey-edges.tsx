import type { RefObject } from 'preact';
import { useEffect, useLayoutEffect, useState } from 'preact/hooks';
import type { JourneyDefinition } from '../types.js';
import { edges } from './journey-edit.js';

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

interface Geometry {
  boxes: Record<string, Box>;
  width: number;
  height: number;
}

interface Point {
  x: number;
  y: number;
}

/** Where each step's card is drawn, in the graph's own (scrolled) coordinates. */
function measure(container: HTMLElement, ids: readonly string[]): Geometry {
  const c = container.getBoundingClientRect();
  const boxes: Record<string, Box> = {};
  for (const id of ids) {
    const el = container.querySelector<HTMLElement>(`#step-${CSS.escape(id)}`);
    if (!el) continue;
    const r = el.getBoundingClientRect();
    boxes[id] = {
      x: Math.round(r.left - c.left + container.scrollLeft),
      y: Math.round(r.top - c.top + container.scrollTop),
      w: Math.round(r.width),
      h: Math.round(r.height),
    };
  }
  // Sized by the cards, not by the scroll area (which the drawing itself would keep from shrinking).
  const all = Object.values(boxes);
  return {
    boxes,
    width: Math.max(0, ...all.map((b) => b.x + b.w)) + 16,
    height: Math.max(0, ...all.map((b) => b.y + b.h)) + 16,
  };
}

/**
 * The curve from a step to the step a branch leads to: out of the side of `from` that faces `to`
 * (branch `n` of `k` leaves at its own height, so two branches to the same step stay apart) into the
 * facing side of `to`.
 */
export function route(
  from: Box,
  to: Box,
  n: number,
  k: number,
): { d: string; start: Point; end: Point; mid: Point } {
  const gap = 8;
  let start: Point;
  let end: Point;
  let out: Point;
  let into: Point;
  if (to.x >= from.x + from.w + gap) {
    start = { x: from.x + from.w, y: from.y + (from.h * (n + 1)) / (k + 1) };
    end = { x: to.x, y: to.y + to.h / 2 };
    out = { x: 1, y: 0 };
    into = { x: -1, y: 0 };
  } else if (to.x + to.w + gap <= from.x) {
    start = { x: from.x, y: from.y + (from.h * (n + 1)) / (k + 1) };
    end = { x: to.x + to.w, y: to.y + to.h / 2 };
    out = { x: -1, y: 0 };
    into = { x: 1, y: 0 };
  } else if (to.y >= from.y) {
    start = { x: from.x + (from.w * (n + 1)) / (k + 1), y: from.y + from.h };
    end = { x: to.x + to.w / 2, y: to.y };
    out = { x: 0, y: 1 };
    into = { x: 0, y: -1 };
  } else {
    start = { x: from.x + (from.w * (n + 1)) / (k + 1), y: from.y };
    end = { x: to.x + to.w / 2, y: to.y + to.h };
    out = { x: 0, y: -1 };
    into = { x: 0, y: 1 };
  }
  const pull = Math.max(30, Math.hypot(end.x - start.x, end.y - start.y) / 3);
  const c1 = { x: start.x + out.x * pull, y: start.y + out.y * pull };
  const c2 = { x: end.x + into.x * pull, y: end.y + into.y * pull };
  const r = (v: number) => Math.round(v * 10) / 10;
  const mid = {
    x: r((start.x + 3 * c1.x + 3 * c2.x + end.x) / 8),
    y: r((start.y + 3 * c1.y + 3 * c2.y + end.y) / 8),
  };
  const p = (q: Point) => `${r(q.x)},${r(q.y)}`;
  return {
    d: `M${p(start)} C${p(c1)} ${p(c2)} ${p(end)}`,
    start: { x: r(start.x), y: r(start.y) },
    end: { x: r(end.x), y: r(end.y) },
    mid,
  };
}

/**
 * The lines of the journey graph: one arrow per branch of every step, from the step to where the
 * branch leads, labelled with the branch (then/else, a variant and its share, event/timeout). Drawn
 * under the step cards from where the cards really are on screen, measured after every render (so
 * the lines follow a step while it is dragged or moved with the keyboard) and when the graph resizes.
 * Decorative for assistive technology: each step's branch list says the same in words.
 */
export function JourneyEdges(props: { def: JourneyDefinition; container: RefObject<HTMLElement | null> }) {
  const [geo, setGeo] = useState<Geometry | null>(null);
  const ids = Object.keys(props.def.steps);
  const update = () => {
    const el = props.container.current;
    if (!el) return;
    const next = measure(el, ids);
    setGeo((prev) => (prev && JSON.stringify(prev) === JSON.stringify(next) ? prev : next));
  };
  // After every render: the cards may have moved (a drag, Alt + arrow, a step added or removed).
  useLayoutEffect(update);
  useEffect(() => {
    const el = props.container.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const watch = new ResizeObserver(() => update());
    watch.observe(el);
    return () => watch.disconnect();
  }, [props.container.current]);
  if (!geo) return null;
  const lines = ids.flatMap((id) => {
    const step = props.def.steps[id];
    const from = geo.boxes[id];
    if (!step || !from) return [];
    const out = edges(step);
    return out.flatMap((e, n) => {
      const to = geo.boxes[e.to];
      if (!to) return [];
      const r = route(from, to, n, out.length);
      return [
        <g
          key={`${id}/${n}`}
          class="edge"
          data-testid={`edge-${id}-${n}`}
          data-from={id}
          data-to={e.to}
          data-start={`${r.start.x},${r.start.y}`}
          data-end={`${r.end.x},${r.end.y}`}
        >
          <path d={r.d} marker-end="url(#edge-arrow)" />
          {e.label && (
            <text x={r.mid.x} y={r.mid.y} text-anchor="middle" dominant-baseline="middle">
              {e.label}
            </text>
          )}
        </g>,
      ];
    });
  });
  return (
    <svg
      class="graph-edges"
      aria-hidden="true"
      focusable="false"
      width={geo.width}
      height={geo.height}
      data-testid="journey-edges"
    >
      <defs>
        <marker
          id="edge-arrow"
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto-start-reverse"
        >
          <path d="M0,0 L10,5 L0,10 z" />
        </marker>
      </defs>
      {lines}
    </svg>
  );
}
