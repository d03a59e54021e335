import { formatNumber, useLocale, useT } from '../i18n.js';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { JourneyDefinition, JourneyStep } from '../types.js';
import {
  addStep,
  connect,
  edges,
  layoutOf,
  removeStep,
  STEP_TYPES,
  withLayout,
  type Position,
  type StepType,
} from './journey-edit.js';
import { JourneyEdges } from './journey-edges.js';

/** Columns by distance from the start step (breadth first); steps not reached come last. */
export function layers(def: JourneyDefinition): string[][] {
  const depth = new Map<string, number>();
  const queue: string[] = [];
  if (def.steps[def.start]) {
    depth.set(def.start, 0);
    queue.push(def.start);
  }
  while (queue.length) {
    const id = queue.shift() as string;
    const step = def.steps[id];
    if (!step) continue;
    for (const e of edges(step)) {
      if (!depth.has(e.to) && def.steps[e.to]) {
        depth.set(e.to, (depth.get(id) ?? 0) + 1);
        queue.push(e.to);
      }
    }
  }
  const cols: string[][] = [];
  for (const id of Object.keys(def.steps)) {
    const d = depth.get(id) ?? Math.max(cols.length, 1);
    (cols[d] ??= []).push(id);
  }
  return cols.filter(Boolean);
}

const text = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

function summary(step: JourneyStep): string {
  const s = step as Record<string, unknown>;
  switch (step.type) {
    case 'send':
      return `${text(s['channel'])} · ${text(s['template'])}`;
    case 'delay':
      return text(s['duration'] ?? s['at_local_time'] ?? s['until'] ?? '');
    case 'wait_for_event':
      return `${text(s['event'])} · ${text(s['timeout'])}`;
    case 'webhook':
      return text(s['url']);
    case 'add_to_list':
    case 'remove_from_list':
      return text(s['list']);
    default:
      return '';
  }
}

/** What a dragged branch handle carries: the step it leaves and which of its branches. */
const EDGE_TYPE = 'application/x-kizuna-edge';

/**
 * The journey as a graph, each step with its type, what it does, the customers at it now and its
 * outgoing branches. Steps named by a validation error are marked with the error. Laid out in one
 * column per distance from the start until someone moves a step: then every step is drawn where the
 * draft's `layout` puts it (a canvas). When the draft may be edited, a step is moved by dragging its
 * title (or with Alt + arrow keys), and a branch is connected by dragging its handle onto another
 * step (HTML drag and drop) or by choosing the step in its list, which keyboards reach too.
 */
export function JourneyGraph(props: {
  def: JourneyDefinition;
  counts: Record<string, number>;
  errors: Map<string, string[]>;
  /** given when the draft may be edited: the graph then reconnects, adds and removes steps */
  onChange?: (def: JourneyDefinition) => void;
}) {
  const [newId, setNewId] = useState('');
  const [newType, setNewType] = useState<StepType>('send');
  const [over, setOver] = useState<string | null>(null);
  const ids = Object.keys(props.def.steps);
  const edit = props.onChange;
  const t = useT();
  const { locale } = useLocale();
  const canvasRef = useRef<HTMLDivElement>(null);
  const [drag, setDrag] = useState<{
    id: string;
    from: Position;
    base: Record<string, Position>;
    moved: Position;
  } | null>(null);
  // While a step is dragged the pointer is followed on the window: the first move redraws the graph
  // as a canvas, which replaces the element the drag started on.
  const dragRef = useRef(drag);
  dragRef.current = drag;
  const dragging = drag?.id ?? null;
  useEffect(() => {
    if (dragging === null) return;
    const move = (ev: PointerEvent) => {
      const d = dragRef.current;
      if (d) setDrag({ ...d, moved: { x: ev.clientX - d.from.x, y: ev.clientY - d.from.y } });
    };
    const up = () => {
      const d = dragRef.current;
      setDrag(null);
      if (!d || !edit || Math.abs(d.moved.x) + Math.abs(d.moved.y) < 4) return;
      const p = d.base[d.id]!;
      edit(withLayout(props.def, { ...d.base, [d.id]: { x: p.x + d.moved.x, y: p.y + d.moved.y } }));
    };
    const cancel = () => setDrag(null);
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
    window.addEventListener('pointercancel', cancel);
    return () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      window.removeEventListener('pointercancel', cancel);
    };
  }, [dragging]);
  const saved = layoutOf(props.def);
  // Where every step is now: the kept layout (steps added since go to a new column on the right),
  // or, in the automatic layout, where the columns put them on screen.
  const current = (): Record<string, Position> => {
    const out: Record<string, Position> = {};
    if (saved) {
      const right = Math.max(0, ...Object.values(saved).map((p) => p.x)) + STEP_PITCH;
      let y = 0;
      for (const id of ids) {
        out[id] = saved[id] ?? { x: right, y };
        if (!saved[id]) y += 200;
      }
      return out;
    }
    for (const id of ids) {
      const el = canvasRef.current?.querySelector<HTMLElement>(`#step-${CSS.escape(id)}`);
      out[id] = { x: el?.offsetLeft ?? 0, y: el?.offsetTop ?? 0 };
    }
    return out;
  };
  const shown = drag
    ? {
        ...drag.base,
        [drag.id]: { x: drag.base[drag.id]!.x + drag.moved.x, y: drag.base[drag.id]!.y + drag.moved.y },
      }
    : saved
      ? current()
      : null;
  const moveBy = (id: string, dx: number, dy: number) => {
    if (!edit) return;
    const base = current();
    const p = base[id]!;
    edit(withLayout(props.def, { ...base, [id]: { x: p.x + dx, y: p.y + dy } }));
  };
  const card = (id: string) => {
    const step = props.def.steps[id] as JourneyStep;
    const errs = props.errors.get(id) ?? [];
    return (
      <article
        key={id}
        class={`step ${step.type} ${errs.length ? 'invalid' : ''} ${over === id ? 'drop-target' : ''}`}
        id={`step-${id}`}
        tabIndex={0}
        aria-label={`${id}: ${step.type}`}
        style={shown?.[id] ? { left: `${shown[id].x}px`, top: `${shown[id].y}px` } : undefined}
        onKeyDown={(ev) => {
          if (!edit || !ev.altKey || ev.target !== ev.currentTarget) return;
          const d = { ArrowLeft: [-20, 0], ArrowRight: [20, 0], ArrowUp: [0, -20], ArrowDown: [0, 20] }[
            ev.key
          ];
          if (!d) return;
          ev.preventDefault();
          moveBy(id, d[0]!, d[1]!);
        }}
        onDragOver={(ev) => {
          if (!edit || !ev.dataTransfer?.types.includes(EDGE_TYPE)) return;
          ev.preventDefault();
          setOver(id);
        }}
        onDragLeave={() => setOver((o) => (o === id ? null : o))}
        onDrop={(ev) => {
          setOver(null);
          const raw = ev.dataTransfer?.getData(EDGE_TYPE);
          if (!edit || !raw) return;
          ev.preventDefault();
          const { from, index } = JSON.parse(raw) as { from: string; index: number };
          const source = props.def.steps[from];
          const edge = source ? edges(source)[index] : undefined;
          if (edge && from !== id) edit(connect(props.def, from, edge, id));
        }}
      >
        <header
          class={edit ? 'movable' : undefined}
          title={edit ? t('journeys.moveHelp') : undefined}
          data-testid={`move-${id}`}
          onPointerDown={(ev) => {
            if (!edit || ev.button !== 0) return;
            ev.preventDefault();
            setDrag({ id, from: { x: ev.clientX, y: ev.clientY }, base: current(), moved: { x: 0, y: 0 } });
          }}
        >
          <strong>{id}</strong> <span class="tag">{step.type}</span>
          {id === props.def.start && <span class="tag start">{t('journeys.start')}</span>}
        </header>
        <div class="muted">{summary(step)}</div>
        <div class="count" data-testid={`count-${id}`}>
          {t('journeys.atStep', { n: formatNumber(locale, props.counts[id] ?? 0) })}
        </div>
        <ul class="edges">
          {edges(step).map((e, n) => (
            <li key={n}>
              {edit ? (
                <span
                  class="handle"
                  draggable
                  title={t('journeys.dragHelp')}
                  data-testid={`handle-${id}-${n}`}
                  onDragStart={(ev) => {
                    ev.dataTransfer?.setData(EDGE_TYPE, JSON.stringify({ from: id, index: n }));
                    if (ev.dataTransfer) ev.dataTransfer.effectAllowed = 'link';
                  }}
                >
                  ⠿→
                </span>
              ) : (
                '→'
              )}{' '}
              {edit ? (
                <select
                  aria-label={t('journeys.edgeTo', { step: id, branch: e.label || 'next' })}
                  value={e.to}
                  onChange={(ev) => edit(connect(props.def, id, e, ev.currentTarget.value))}
                >
                  {ids.map((x) => (
                    <option key={x} value={x}>
                      {x}
                    </option>
                  ))}
                </select>
              ) : (
                <a href={`#step-${e.to}`}>{e.to}</a>
              )}{' '}
              {e.label && <span class="muted">({e.label})</span>}
            </li>
          ))}
        </ul>
        {edit && id !== props.def.start && (
          <button
            type="button"
            class="link"
            aria-label={t('journeys.removeStep', { step: id })}
            onClick={() => edit(removeStep(props.def, id))}
          >
            {t('journeys.remove')}
          </button>
        )}
        {errs.map((e) => (
          <p class="step-error" role="alert" key={e}>
            {e}
          </p>
        ))}
      </article>
    );
  };
  const height = shown ? Math.max(0, ...Object.values(shown).map((p) => p.y)) + 240 : undefined;
  const width = shown ? Math.max(0, ...Object.values(shown).map((p) => p.x)) + STEP_PITCH : undefined;
  return (
    <div class="graph-wrap">
      <div class="graph" data-testid="journey-graph" ref={canvasRef}>
        <JourneyEdges def={props.def} container={canvasRef} />
        {shown ? (
          <div class="canvas" style={{ height: `${height}px`, width: `${width}px` }}>
            {ids.map(card)}
          </div>
        ) : (
          layers(props.def).map((col, i) => (
            <div class="graph-col" key={i}>
              {col.map(card)}
            </div>
          ))
        )}
      </div>
      {edit && (
        <form
          class="graph-col add-step"
          onSubmit={(e) => {
            e.preventDefault();
            if (!newId || props.def.steps[newId]) return;
            edit(addStep(props.def, newId, newType));
            setNewId('');
          }}
        >
          <label>
            {t('journeys.newStepId')}
            <input
              value={newId}
              pattern="[a-z0-9_]+"
              required
              onInput={(e) => setNewId(e.currentTarget.value)}
            />
          </label>
          <label>
            {t('journeys.newStepType')}
            <select value={newType} onChange={(e) => setNewType(e.currentTarget.value as StepType)}>
              {STEP_TYPES.map((x) => (
                <option key={x}>{x}</option>
              ))}
            </select>
          </label>
          <button type="submit">{t('journeys.addStep')}</button>
          <p class="muted">{t('journeys.addStepHelp')}</p>
        </form>
      )}
    </div>
  );
}

/** Horizontal room a step takes on the canvas (its width and the gap to the next column). */
const STEP_PITCH = 300;
