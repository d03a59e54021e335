import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import { useEffect, useRef } from 'preact/hooks';

// Only the pieces the dashboard draws, so the bundle carries no unused chart types.
Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  Legend,
);

export const PALETTE = [
  '#2f6fde',
  '#1aa179',
  '#e3a008',
  '#d9480f',
  '#7048e8',
  '#0c8599',
  '#c2255c',
  '#5c940d',
];

export interface Series {
  label: string;
  values: number[];
}

/**
 * A bar or line chart. The figures are also given as a visually hidden table, so screen readers and
 * keyboard users read the same numbers the picture shows.
 */
export function ChartView(props: {
  kind: 'bar' | 'line';
  labels: string[];
  series: Series[];
  title: string;
  height?: number;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const config: ChartConfiguration = {
      type: props.kind,
      data: {
        labels: props.labels,
        datasets: props.series.map((s, i) => ({
          label: s.label,
          data: s.values,
          backgroundColor: props.series.length === 1 && props.kind === 'bar' ? PALETTE : PALETTE[i % 8],
          borderColor: PALETTE[i % 8],
          tension: 0.2,
        })),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: props.series.length > 1 } },
        scales: { y: { beginAtZero: true } },
      },
    };
    const chart = new Chart(canvas.current, config);
    return () => chart.destroy();
  }, [props.kind, JSON.stringify(props.labels), JSON.stringify(props.series)]);
  return (
    <figure class="chart" style={{ height: `${props.height ?? 220}px` }}>
      <canvas ref={canvas} role="img" aria-label={props.title} />
      {/* A table takes the width of its content whatever its own width says: the 1-pixel box is a div. */}
      <div class="sr-only">
        <table>
          <caption>{props.title}</caption>
          <tbody>
            {props.labels.map((l, i) => (
              <tr key={l}>
                <th>{l}</th>
                {props.series.map((s) => (
                  <td key={s.label}>{s.values[i]}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
